// A deliberately small reader for the `---` front matter of SKILL.md and prompt files. Only flat
// `key: value` lines matter to Kiln (name, description, argument-hint), so a YAML dependency would buy
// nothing: quoted values, `>`/`|` block scalars and indented continuation lines are understood; nested
// maps and lists are read as text and ignored by the callers.

/** A Markdown file split into its front matter and the text after it. */
export interface FrontMatter {
  /** `key: value` pairs, values unquoted and trimmed. Empty when the file has no front matter. */
  attributes: Record<string, string>;
  /** The text after the closing `---` (the whole text when there is no front matter). */
  body: string;
  /** Whether the file opened with a `---` block. */
  present: boolean;
}

const OPEN = /^\uFEFF?---[ \t]*\r?\n/;
const CLOSE = /^---[ \t]*$/;
const KEY_VALUE = /^([A-Za-z0-9_.-]+)[ \t]*:(?:[ \t]+(.*))?$/;

/** Splits `text` into front matter attributes and body. An unterminated block is not front matter. */
export function parseFrontMatter(text: string): FrontMatter {
  const open = OPEN.exec(text);
  if (open === null) return { attributes: {}, body: text, present: false };
  const rest = text.slice(open[0].length);
  const lines = rest.split(/\r?\n/);
  const closeAt = lines.findIndex((line) => CLOSE.test(line));
  if (closeAt < 0) return { attributes: {}, body: text, present: false };

  const attributes: Record<string, string> = {};
  let key: string | undefined;
  let block: "folded" | "literal" | undefined;
  let parts: string[] = [];
  const flush = () => {
    if (key === undefined) return;
    attributes[key] = block === "literal" ? parts.join("\n").trim() : parts.join(" ").trim();
  };
  for (const line of lines.slice(0, closeAt)) {
    if (/^\s*#/.test(line) || line.trim() === "") {
      if (block === "literal" && key !== undefined) parts.push("");
      continue;
    }
    const match = /^\s/.test(line) ? null : KEY_VALUE.exec(line);
    if (match === null) {
      // An indented line continues the previous value (YAML's folded plain scalars and block scalars).
      if (key !== undefined) parts.push(line.trim());
      continue;
    }
    flush();
    key = match[1] ?? "";
    const value = (match[2] ?? "").trim();
    block = value.startsWith(">") ? "folded" : value.startsWith("|") ? "literal" : undefined;
    parts = block === undefined && value !== "" ? [unquote(value)] : [];
  }
  flush();
  const body = lines.slice(closeAt + 1).join("\n");
  return { attributes, body, present: true };
}

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    return value.slice(1, -1).replace(/\\(["\\nt])/g, (_, c: string) => {
      if (c === "n") return "\n";
      if (c === "t") return "\t";
      return c;
    });
  }
  if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) {
    return value.slice(1, -1).replace(/''/g, "'");
  }
  // A trailing ` # comment` is YAML syntax, not part of a plain value.
  return value.replace(/\s+#.*$/, "");
}
