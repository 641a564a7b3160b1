// `/NAME args…` → the text of `$KILN_HOME/prompts/NAME.md` with its placeholders filled in, as Codex
// does: `$1`…`$9` positional arguments, `$ARGUMENTS` all of them, `$KEY` from a `KEY=value` argument,
// `$$` a literal `$`. Arguments split like a shell's words, honouring quotes.
import { join } from "node:path";
import { PROMPT_NAME, promptsDir, readPrompt } from "./list-prompts.ts";

/** The user's input, expanded when it invokes a custom prompt (`prompt` is then its name). */
export interface ExpandedPrompt {
  text: string;
  prompt?: string;
}

const INVOCATION = /^\/(?:prompts:)?([^\s/]+)(?:\s+([\s\S]*))?$/;
/** `$$`, `$1`…`$9`, or an upper-case name such as `$ARGUMENTS` or `$FILE`. */
const PLACEHOLDER = /\$(\$|[1-9]|[A-Z][A-Z0-9_]*)/g;
const NAMED_ARGUMENT = /^([A-Z][A-Z0-9_]*)=([\s\S]*)$/;

/**
 * Expands `input` when it starts with `/NAME` (or Codex's `/prompts:NAME`) and `NAME.md` exists in
 * `$KILN_HOME/prompts`; any other input, an unknown `/name` included, comes back unchanged (built-in
 * slash commands such as `/compact` are the caller's).
 */
export function expandPrompt(input: string, kilnHome: string): ExpandedPrompt {
  const match = INVOCATION.exec(input);
  const name = match?.[1];
  if (match === null || name === undefined || !PROMPT_NAME.test(name)) return { text: input };
  const prompt = readPrompt(join(promptsDir(kilnHome), `${name}.md`));
  if (prompt === undefined) return { text: input };
  return { text: fillPlaceholders(prompt.body.trim(), splitArguments(match[2] ?? "")), prompt: name };
}

/** Replaces the placeholders of `body` in one pass (so an argument's own `$1` is left as typed). */
export function fillPlaceholders(body: string, args: string[]): string {
  // `KEY=value` is a named argument only when the prompt uses `$KEY`; otherwise it is positional.
  const used = new Set([...body.matchAll(PLACEHOLDER)].map((m) => m[1]));
  const named = new Map<string, string>();
  const positional: string[] = [];
  for (const arg of args) {
    const pair = NAMED_ARGUMENT.exec(arg);
    const key = pair?.[1];
    if (pair !== null && key !== undefined && key !== "ARGUMENTS" && used.has(key)) {
      named.set(key, pair[2] ?? "");
    } else {
      positional.push(arg);
    }
  }
  return body.replace(PLACEHOLDER, (whole, token: string) => {
    if (token === "$") return "$";
    if (/^[1-9]$/.test(token)) return positional[Number(token) - 1] ?? "";
    if (token === "ARGUMENTS") return positional.join(" ");
    // An upper-case word nobody passed (`$HOME` in a shell snippet) stays as written.
    return named.get(token) ?? whole;
  });
}

/** Splits `text` into words like a POSIX shell: whitespace separates; '…' is literal; "…" and \ escape. */
export function splitArguments(text: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === "\\" && i + 1 < text.length && '"\\$`'.includes(text[i + 1] as string))
        word += text[++i];
      else word += c;
      continue;
    }
    if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === "'" || c === '"') quote = c;
    else if (c === "\\" && i + 1 < text.length) word += text[++i];
    else word += c;
  }
  // An unterminated quote runs to the end of the input rather than failing.
  if (inWord) words.push(word);
  return words;
}
