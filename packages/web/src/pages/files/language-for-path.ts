// Which CodeMirror language a file gets, by its extension (or name). Only the languages the web app
// ships (JavaScript/TypeScript, Markdown, Python); anything else is plain text.
import { javascript } from "@codemirror/lang-javascript";
import { markdown } from "@codemirror/lang-markdown";
import { python } from "@codemirror/lang-python";
import type { Extension } from "@codemirror/state";

/** A language the editor knows. */
export interface EditorLanguage {
  /** Shown in the editor's status line. */
  name: string;
  /** The CodeMirror extension (created on demand: each editor gets its own). */
  extension: () => Extension;
}

const JS: Record<string, { name: string; jsx: boolean; typescript: boolean }> = {
  js: { name: "JavaScript", jsx: false, typescript: false },
  mjs: { name: "JavaScript", jsx: false, typescript: false },
  cjs: { name: "JavaScript", jsx: false, typescript: false },
  jsx: { name: "JavaScript (JSX)", jsx: true, typescript: false },
  ts: { name: "TypeScript", jsx: false, typescript: true },
  mts: { name: "TypeScript", jsx: false, typescript: true },
  cts: { name: "TypeScript", jsx: false, typescript: true },
  tsx: { name: "TypeScript (TSX)", jsx: true, typescript: true },
  // JSON is a subset of JavaScript's expression syntax: good enough for highlighting.
  json: { name: "JSON", jsx: false, typescript: false },
  jsonc: { name: "JSON", jsx: false, typescript: false },
};

/** The language of `path` (by extension, case-insensitive), or undefined for plain text. */
export function languageForPath(path: string): EditorLanguage | undefined {
  const name = path.slice(path.lastIndexOf("/") + 1).toLowerCase();
  const dot = name.lastIndexOf(".");
  const ext = dot <= 0 ? "" : name.slice(dot + 1);
  const js = JS[ext];
  if (js !== undefined) {
    return { name: js.name, extension: () => javascript({ jsx: js.jsx, typescript: js.typescript }) };
  }
  if (ext === "md" || ext === "markdown" || ext === "mdx")
    return { name: "Markdown", extension: () => markdown() };
  if (ext === "py" || ext === "pyi" || ext === "pyw") return { name: "Python", extension: () => python() };
  return undefined;
}
