import { describe, expect, it } from "vitest";
import { languageForPath } from "./language-for-path.ts";

describe("languageForPath", () => {
  it("picks the language by extension, case-insensitively", () => {
    const names = ["src/a.ts", "b.TSX", "c.mjs", "d.jsx", "package.json", "README.md", "x/y/z.py"].map(
      (p) => languageForPath(p)?.name,
    );
    expect(names).toEqual([
      "TypeScript",
      "TypeScript (TSX)",
      "JavaScript",
      "JavaScript (JSX)",
      "JSON",
      "Markdown",
      "Python",
    ]);
  });

  it("leaves unknown files, files without an extension and dotfiles as plain text", () => {
    expect(["Makefile", "notes.txt", ".bashrc", "dir.ts/file"].map((p) => languageForPath(p))).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it("gives an extension CodeMirror can load", () => {
    expect(languageForPath("a.py")?.extension()).toBeTruthy();
  });
});
