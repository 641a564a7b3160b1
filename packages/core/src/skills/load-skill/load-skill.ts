// load_skill: gives the model a skill's instructions (SKILL.md without its front matter) and the list of
// the other files in its folder, or one of those files. Skill folders may be outside the sandbox, so Kiln
// reads them itself and refuses any path that leaves the folder (`..`, absolute, symlinks).
import type { Dirent } from "node:fs";
import { open, readdir, readFile, realpath, stat } from "node:fs/promises";
import { isAbsolute, join, relative, sep } from "node:path";
import type { ToolCallItem } from "@kiln/protocol";
import { z } from "zod";
import { describeArgumentError, parseJsonArguments, type Tool, ToolError } from "../../tools/tool.ts";
import type { Skill } from "../discover-skills.ts";
import { parseFrontMatter } from "../front-matter.ts";
import description from "./description.md";

const LoadSkillArgs = z.object({
  name: z.string().min(1, "name must not be empty"),
  file: z.string().min(1, "file must not be empty").optional(),
});
type LoadSkillArgs = z.infer<typeof LoadSkillArgs>;

/** Most files listed for a skill folder. */
export const MAX_LISTED_FILES = 50;
/** Most bytes of one file given to the model. */
export const MAX_FILE_BYTES = 256 * 1024;

/** The load_skill tool over the skills found for this thread (see `discoverSkills`). */
export function createLoadSkillTool(skills: readonly Skill[]): Tool<LoadSkillArgs> {
  const byName = new Map(skills.map((s) => [s.name, s]));
  return {
    name: "load_skill",
    spec: {
      type: "function",
      name: "load_skill",
      description,
      parameters: {
        type: "object",
        properties: {
          name: { type: "string", description: "The skill's name, as listed under Skills." },
          file: {
            type: "string",
            description:
              "A file of the skill's folder, relative to it (omit to get SKILL.md and the file list).",
          },
        },
        required: ["name"],
        additionalProperties: false,
      },
    },
    parse(call) {
      const parsed = LoadSkillArgs.safeParse(parseJsonArguments(call));
      if (!parsed.success) {
        throw ToolError.respondToModel(describeArgumentError("load_skill", parsed.error.issues));
      }
      return parsed.data;
    },
    isMutating: () => false,
    async execute(args, ctx) {
      const item: ToolCallItem = {
        id: ctx.newItemId(),
        type: "toolCall",
        tool: "load_skill",
        arguments: args,
        status: "in_progress",
      };
      ctx.emit({ type: "item/started", item });
      try {
        const skill = byName.get(args.name);
        if (skill === undefined) throw unknownSkill(args.name, [...byName.keys()]);
        const output = args.file === undefined ? await skillText(skill) : await skillFile(skill, args.file);
        ctx.emit({ type: "item/completed", item: { ...item, output, status: "completed" } });
        return output;
      } catch (error) {
        const failure = asToolError(error);
        const message = failure instanceof Error ? failure.message : String(failure);
        ctx.emit({
          type: "item/completed",
          item: { ...item, output: `Error: ${message}`, status: "failed" },
        });
        throw failure;
      }
    },
  };
}

/** File system failures (a folder removed meanwhile, no permission) are told to the model, not fatal. */
function asToolError(error: unknown): unknown {
  if (error instanceof ToolError) return error;
  if (error instanceof Error && typeof (error as NodeJS.ErrnoException).code === "string") {
    return ToolError.respondToModel(`load_skill failed: ${error.message}`);
  }
  return error;
}

function unknownSkill(name: string, known: string[]): ToolError {
  return ToolError.respondToModel(
    known.length === 0
      ? `no skill named "${name}": no skills are available in this session`
      : `no skill named "${name}"; available skills: ${known.join(", ")}`,
  );
}

/** SKILL.md's instructions, then the other files of the folder and how to read them. */
async function skillText(skill: Skill): Promise<string> {
  let text: string;
  try {
    text = await readFile(skill.path, "utf8");
  } catch {
    throw ToolError.respondToModel(`skill "${skill.name}" cannot be read: ${skill.path} is gone`);
  }
  const body = parseFrontMatter(text).body.trim();
  const { files, more } = await listFiles(skill.dir, MAX_LISTED_FILES);
  const header = `Skill "${skill.name}" (folder: ${skill.dir})`;
  if (files.length === 0) return `${header}\n\n${body}\n\nThe skill's folder holds no other files.`;
  const list = files.map((f) => `- ${f}`).join("\n");
  const cut = more ? `\n(only the first ${MAX_LISTED_FILES} files are listed)` : "";
  return [
    header,
    body,
    `Other files in this skill's folder:\n${list}${cut}`,
    `Read one with load_skill {"name": "${skill.name}", "file": "<path>"}; the folder may be outside the sandbox, so do not read it with commands.`,
  ].join("\n\n");
}

/** One file of the skill's folder, refusing paths that lead out of it. */
async function skillFile(skill: Skill, file: string): Promise<string> {
  if (isAbsolute(file)) {
    throw ToolError.respondToModel(
      `refused: file must be a path relative to the skill folder, not an absolute path ("${file}")`,
    );
  }
  if (file.split(/[\\/]/).includes("..")) {
    throw ToolError.respondToModel(
      `refused: "${file}" leads out of the skill folder; give a path inside it, as listed by load_skill {"name": "${skill.name}"}`,
    );
  }
  const root = await realpath(skill.dir);
  let target: string;
  try {
    target = await realpath(join(skill.dir, file));
  } catch {
    const { files } = await listFiles(skill.dir, MAX_LISTED_FILES);
    throw ToolError.respondToModel(
      `skill "${skill.name}" has no file "${file}"${files.length === 0 ? "" : `; its files: ${files.join(", ")}`}`,
    );
  }
  if (target !== root && !target.startsWith(root + sep)) {
    throw ToolError.respondToModel(`refused: "${file}" is a symbolic link leading out of the skill folder`);
  }
  const info = await stat(target);
  if (info.isDirectory()) {
    const { files } = await listFiles(target, MAX_LISTED_FILES);
    const prefix = relative(root, target);
    const inside = files.map((f) => (prefix === "" ? f : `${prefix}/${f}`));
    throw ToolError.respondToModel(
      `"${file}" is a folder; read one of its files${inside.length === 0 ? "" : `: ${inside.join(", ")}`}`,
    );
  }
  if (!info.isFile()) throw ToolError.respondToModel(`"${file}" is not a regular file`);
  const bytes = await readHead(target, MAX_FILE_BYTES);
  if (bytes.includes(0)) {
    throw ToolError.respondToModel(
      `"${file}" is a binary file (${info.size} bytes); load_skill shows text files only`,
    );
  }
  const text = bytes.toString("utf8");
  if (info.size <= MAX_FILE_BYTES) return text;
  return `${text.replace(/\uFFFD$/, "")}\n[truncated: showing the first ${MAX_FILE_BYTES} of ${info.size} bytes]`;
}

async function readHead(path: string, max: number): Promise<Buffer> {
  const handle = await open(path, "r");
  try {
    const buffer = Buffer.alloc(max);
    const { bytesRead } = await handle.read(buffer, 0, max, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * The regular files under `dir` (relative, `/`-separated), the folder's own files before its sub-folders',
 * without SKILL.md at the top, hidden entries or symlinks; at most `limit`, `more` when some were left out.
 */
async function listFiles(dir: string, limit: number): Promise<{ files: string[]; more: boolean }> {
  const files: string[] = [];
  let more = false;
  const walk = async (sub: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(join(dir, sub), { withFileTypes: true });
    } catch {
      return;
    }
    const visible = entries
      .filter((e) => !e.name.startsWith("."))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of visible) {
      if (!entry.isFile()) continue;
      const path = sub === "" ? entry.name : `${sub}/${entry.name}`;
      if (path === "SKILL.md") continue;
      if (files.length >= limit) {
        more = true;
        return;
      }
      files.push(path);
    }
    for (const entry of visible) {
      if (more) return;
      if (entry.isDirectory()) await walk(sub === "" ? entry.name : `${sub}/${entry.name}`);
    }
  };
  await walk("");
  return { files, more };
}
