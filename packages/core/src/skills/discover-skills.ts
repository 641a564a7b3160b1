// Finds the skills a thread may use: folders holding a SKILL.md, under $KILN_HOME/skills/ (global) and
// <repo>/.kiln/skills/ (repo). A repo skill replaces a global one of the same name. A SKILL.md that
// cannot be used is skipped with a warning the caller shows to the user, never silently.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { isConfinedFile } from "../util/confined-file.ts";
import { parseFrontMatter } from "./front-matter.ts";

/** A skill: a folder of instructions (SKILL.md) and resources the model loads on demand. */
export interface Skill {
  /** The `name` of its front matter (how the model asks for it). */
  name: string;
  /** The `description` of its front matter (when to use it), listed to the model. */
  description: string;
  /** The SKILL.md file. */
  path: string;
  /** The skill's folder. */
  dir: string;
  /** Where it was found: `$KILN_HOME/skills` (global) or the repository's `.kiln/skills` (repo). */
  scope: "global" | "repo";
}

/** The skills found, by name, and why some SKILL.md files were skipped. */
export interface DiscoveredSkills {
  skills: Skill[];
  warnings: string[];
}

/** Longest `name` accepted (as in Codex). */
export const MAX_SKILL_NAME_LENGTH = 64;
/** Longest `description` accepted (as in Codex): it is sent to the model in every thread. */
export const MAX_SKILL_DESCRIPTION_LENGTH = 1024;

/** Skills of `$KILN_HOME/skills/*` and `<repoRoot>/.kiln/skills/*`, sorted by name; repo ones win. */
export function discoverSkills(options: { kilnHome: string; repoRoot: string }): DiscoveredSkills {
  const warnings: string[] = [];
  const byName = new Map<string, Skill>();
  const roots = [
    { dir: join(options.kilnHome, "skills"), scope: "global" as const },
    { dir: join(options.repoRoot, ".kiln", "skills"), scope: "repo" as const },
  ];
  for (const root of roots) {
    const seen = new Set<string>();
    for (const dir of skillFolders(root.dir, root.scope === "repo")) {
      const result = readSkill(dir, root.scope);
      if (typeof result === "string") {
        warnings.push(result);
        continue;
      }
      if (seen.has(result.name)) {
        warnings.push(
          `skipped skill ${result.path}: another skill in ${root.dir} is already named "${result.name}"; give each SKILL.md a unique name`,
        );
        continue;
      }
      seen.add(result.name);
      byName.set(result.name, result);
    }
  }
  const skills = [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { skills, warnings };
}

/** The sub-folders of `root` that hold a SKILL.md, in name order (symlinked folders count). */
function skillFolders(root: string, confined: boolean): string[] {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return []; // No skills folder: nothing to discover.
  }
  return (
    names
      .filter((name) => !name.startsWith("."))
      .sort()
      .map((name) => join(root, name))
      // A repository's SKILL.md must really live in its skills folder: a symlink out of it (planted by a
      // sandboxed command) would make Kiln read any host file for the model. Global skills are the
      // user's own and may be symlinked from anywhere.
      .filter((dir) =>
        confined ? isConfinedFile(join(dir, "SKILL.md"), [root]) : isRegularFile(join(dir, "SKILL.md")),
      )
  );
}

/** The skill in `dir`, or the reason it was skipped. */
function readSkill(dir: string, scope: Skill["scope"]): Skill | string {
  const path = join(dir, "SKILL.md");
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    return `skipped skill ${path}: it cannot be read (${error instanceof Error ? error.message : String(error)})`;
  }
  const { attributes, present } = parseFrontMatter(text);
  const expected = "start the file with ---, a `name: …` line, a `description: …` line, then ---";
  if (!present) return `skipped skill ${path}: it has no front matter; ${expected}`;
  const name = attributes.name?.trim() ?? "";
  const description = attributes.description?.trim() ?? "";
  const missing = [name === "" ? "name" : "", description === "" ? "description" : ""].filter(Boolean);
  if (missing.length > 0) {
    return `skipped skill ${path}: its front matter has no ${missing.join(" and no ")}; ${expected}`;
  }
  if (name.length > MAX_SKILL_NAME_LENGTH || /\s/.test(name)) {
    return `skipped skill ${path}: name "${name}" must be one word of at most ${MAX_SKILL_NAME_LENGTH} characters (e.g. pdf-forms)`;
  }
  if (description.length > MAX_SKILL_DESCRIPTION_LENGTH) {
    return `skipped skill ${path}: its description is ${description.length} characters long; shorten it to at most ${MAX_SKILL_DESCRIPTION_LENGTH}`;
  }
  return { name, description, path, dir, scope };
}

function isRegularFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
