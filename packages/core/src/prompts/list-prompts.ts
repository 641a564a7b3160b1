// Custom prompts (Codex-compatible): each `$KILN_HOME/prompts/NAME.md` is a reusable message the user
// sends as `/NAME args…`. Front matter is optional (`description`, `argument-hint`).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { parseFrontMatter } from "../skills/front-matter.ts";

/** A prompt file of `$KILN_HOME/prompts`. */
export interface CustomPrompt {
  /** The file name without `.md`: the user types `/name`. */
  name: string;
  /** One line for a command menu (front matter `description`). */
  description?: string;
  /** What to type after the name, e.g. `FILE=<path> [FOCUS=<section>]` (front matter `argument-hint`). */
  argumentHint?: string;
  /** The prompt file. */
  path: string;
  /** The text sent (after placeholder expansion), without the front matter. */
  body: string;
}

/** Names a prompt may have (and `/name` may use). */
export const PROMPT_NAME = /^[A-Za-z0-9_-]+$/;

/** The folder holding the prompt files. */
export function promptsDir(kilnHome: string): string {
  return join(kilnHome, "prompts");
}

/** The prompts of `$KILN_HOME/prompts/*.md`, sorted by name. Other files and bad names are ignored. */
export function listPrompts(kilnHome: string): CustomPrompt[] {
  const dir = promptsDir(kilnHome);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return []; // No prompts folder: no prompts.
  }
  return names
    .filter((file) => file.endsWith(".md") && PROMPT_NAME.test(file.slice(0, -3)))
    .sort()
    .map((file) => readPrompt(join(dir, file)))
    .filter((p): p is CustomPrompt => p !== undefined);
}

/** The prompt in `path` (a `.md` file, or a symlink to one), or undefined when it is not a readable file. */
export function readPrompt(path: string): CustomPrompt | undefined {
  let text: string;
  try {
    if (!statSync(path).isFile()) return undefined;
    text = readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
  const { attributes, body } = parseFrontMatter(text);
  const description = attributes.description?.trim();
  const argumentHint = (attributes["argument-hint"] ?? attributes.argument_hint)?.trim();
  return {
    name: basename(path, ".md"),
    ...(description ? { description } : {}),
    ...(argumentHint ? { argumentHint } : {}),
    path,
    body,
  };
}
