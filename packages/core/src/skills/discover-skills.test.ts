import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { discoverSkills } from "./discover-skills.ts";
import { parseFrontMatter } from "./front-matter.ts";

let home: string;
let repo: string;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), "kiln-skills-home-"));
  repo = mkdtempSync(join(tmpdir(), "kiln-skills-repo-"));
});

afterEach(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(repo, { recursive: true, force: true });
});

function writeSkill(root: string, folder: string, text: string): string {
  const dir = join(root, folder);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "SKILL.md"), text);
  return dir;
}

const skillMd = (name: string, description: string, body = "Do the thing.") =>
  `---\nname: ${name}\ndescription: ${description}\n---\n\n${body}\n`;

describe("discoverSkills", () => {
  it("finds global skills under $KILN_HOME/skills and repo skills under .kiln/skills, sorted by name", () => {
    const pdf = writeSkill(join(home, "skills"), "pdf", skillMd("pdf", "Fill in PDF forms"));
    const release = writeSkill(
      join(repo, ".kiln", "skills"),
      "release",
      skillMd("release", "Cut a release of this repo"),
    );

    expect(discoverSkills({ kilnHome: home, repoRoot: repo })).toEqual({
      skills: [
        {
          name: "pdf",
          description: "Fill in PDF forms",
          path: join(pdf, "SKILL.md"),
          dir: pdf,
          scope: "global",
        },
        {
          name: "release",
          description: "Cut a release of this repo",
          path: join(release, "SKILL.md"),
          dir: release,
          scope: "repo",
        },
      ],
      warnings: [],
    });
  });

  it("lets a repo skill replace a global skill of the same name", () => {
    writeSkill(join(home, "skills"), "lint", skillMd("lint", "Global lint rules"));
    const local = writeSkill(
      join(repo, ".kiln", "skills"),
      "our-lint",
      skillMd("lint", "This repo's lint rules"),
    );

    expect(discoverSkills({ kilnHome: home, repoRoot: repo })).toEqual({
      skills: [
        {
          name: "lint",
          description: "This repo's lint rules",
          path: join(local, "SKILL.md"),
          dir: local,
          scope: "repo",
        },
      ],
      warnings: [],
    });
  });

  it("skips a SKILL.md without front matter, name or description, with a warning naming the file", () => {
    const plain = writeSkill(join(home, "skills"), "plain", "# Just text\n");
    const nameless = writeSkill(join(home, "skills"), "nameless", "---\ndescription: no name\n---\nbody\n");
    const bare = writeSkill(join(repo, ".kiln", "skills"), "bare", "---\ntitle: x\n---\nbody\n");
    const good = writeSkill(join(home, "skills"), "good", skillMd("good", "Works"));

    const result = discoverSkills({ kilnHome: home, repoRoot: repo });

    const expected = "start the file with ---, a `name: …` line, a `description: …` line, then ---";
    expect(result).toEqual({
      skills: [
        { name: "good", description: "Works", path: join(good, "SKILL.md"), dir: good, scope: "global" },
      ],
      warnings: [
        `skipped skill ${join(nameless, "SKILL.md")}: its front matter has no name; ${expected}`,
        `skipped skill ${join(plain, "SKILL.md")}: it has no front matter; ${expected}`,
        `skipped skill ${join(bare, "SKILL.md")}: its front matter has no name and no description; ${expected}`,
      ],
    });
  });

  it("warns about two skills of one scope with the same name and keeps the first folder's", () => {
    const a = writeSkill(join(home, "skills"), "a", skillMd("dup", "First"));
    const b = writeSkill(join(home, "skills"), "b", skillMd("dup", "Second"));

    expect(discoverSkills({ kilnHome: home, repoRoot: repo })).toEqual({
      skills: [{ name: "dup", description: "First", path: join(a, "SKILL.md"), dir: a, scope: "global" }],
      warnings: [
        `skipped skill ${join(b, "SKILL.md")}: another skill in ${join(home, "skills")} is already named "dup"; give each SKILL.md a unique name`,
      ],
    });
  });

  it("ignores folders without a SKILL.md, hidden folders and missing skills folders, and follows symlinked folders", () => {
    mkdirSync(join(home, "skills", "empty"), { recursive: true });
    writeSkill(join(home, "skills"), ".hidden", skillMd("hidden", "Not listed"));
    const elsewhere = writeSkill(repo, "shared-skill", skillMd("shared", "Linked in"));
    symlinkSync(elsewhere, join(home, "skills", "shared"));

    expect(discoverSkills({ kilnHome: home, repoRoot: join(repo, "nope") })).toEqual({
      skills: [
        {
          name: "shared",
          description: "Linked in",
          path: join(home, "skills", "shared", "SKILL.md"),
          dir: join(home, "skills", "shared"),
          scope: "global",
        },
      ],
      warnings: [],
    });
  });
});

describe("parseFrontMatter", () => {
  it("reads plain, quoted, folded and commented values and returns the body after the block", () => {
    const text = [
      "---",
      "name: 'pdf-forms'",
      'description: "Fill in \\"PDF\\" forms"',
      "# a comment",
      "argument-hint: FILE=<path> # trailing comment",
      "long: >",
      "  first line",
      "  second line",
      "metadata:",
      "  short-description: nested",
      "---",
      "Body text",
      "",
    ].join("\n");

    expect(parseFrontMatter(text)).toEqual({
      attributes: {
        name: "pdf-forms",
        description: 'Fill in "PDF" forms',
        "argument-hint": "FILE=<path>",
        long: "first line second line",
        metadata: "short-description: nested",
      },
      body: "Body text\n",
      present: true,
    });
  });

  it("treats text without an opening or a closing --- as having no front matter", () => {
    expect(parseFrontMatter("# Title\nname: x\n")).toEqual({
      attributes: {},
      body: "# Title\nname: x\n",
      present: false,
    });
    expect(parseFrontMatter("---\nname: x\nno end\n")).toEqual({
      attributes: {},
      body: "---\nname: x\nno end\n",
      present: false,
    });
  });

  it("accepts Windows line endings", () => {
    expect(parseFrontMatter("---\r\nname: x\r\ndescription: y\r\n---\r\nbody")).toEqual({
      attributes: { name: "x", description: "y" },
      body: "body",
      present: true,
    });
  });
});
