// A unified diff (git's or `diff -u`'s, one file or many) as files → hunks → numbered lines, for
// DiffView; and a hunk's lines paired into rows for the split view. Parsing is the `diff` package's
// parsePatch; this adds line numbers, kinds and the `a/` `b/` prefixes removed.
import { parsePatch } from "diff";

/** One line of a hunk. */
export interface DiffLine {
  type: "context" | "add" | "del" | "note";
  /** Without its `+`, `-` or ` ` prefix. */
  text: string;
  oldNumber: number | undefined;
  newNumber: number | undefined;
}

/** One hunk (`@@ -a,b +c,d @@`). */
export interface DiffHunk {
  header: string;
  lines: DiffLine[];
}

/** One file of a diff. */
export interface DiffFile {
  /** The path to show (the new path, or the old one for a deletion). */
  path: string;
  oldPath: string | undefined;
  newPath: string | undefined;
  kind: "added" | "deleted" | "modified" | "renamed";
  binary: boolean;
  hunks: DiffHunk[];
  additions: number;
  deletions: number;
}

/** A row of the split view: the old side and the new side (either may be empty). */
export interface SplitRow {
  left: DiffLine | undefined;
  right: DiffLine | undefined;
}

/** The files of a unified diff; throws when it is not one (show the raw text instead). */
export function parseDiff(text: string): DiffFile[] {
  if (text.trim() === "") return [];
  return parsePatch(text)
    .filter((p) => p.hunks.length > 0 || p.oldFileName !== undefined || p.newFileName !== undefined)
    .map((patch) => {
      const oldPath = cleanPath(patch.oldFileName);
      const newPath = cleanPath(patch.newFileName);
      const kind =
        patch.isCreate === true || (oldPath === undefined && newPath !== undefined)
          ? "added"
          : patch.isDelete === true || (newPath === undefined && oldPath !== undefined)
            ? "deleted"
            : patch.isRename === true ||
                (oldPath !== undefined && newPath !== undefined && oldPath !== newPath)
              ? "renamed"
              : "modified";
      let additions = 0;
      let deletions = 0;
      const hunks = patch.hunks.map((hunk) => {
        let oldNumber = hunk.oldStart;
        let newNumber = hunk.newStart;
        const lines: DiffLine[] = hunk.lines.map((raw) => {
          const prefix = raw[0];
          const text = raw.slice(1);
          if (prefix === "+") {
            additions++;
            return { type: "add", text, oldNumber: undefined, newNumber: newNumber++ };
          }
          if (prefix === "-") {
            deletions++;
            return { type: "del", text, oldNumber: oldNumber++, newNumber: undefined };
          }
          if (prefix === "\\") return { type: "note", text: raw, oldNumber: undefined, newNumber: undefined };
          return { type: "context", text, oldNumber: oldNumber++, newNumber: newNumber++ };
        });
        const header = `@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`;
        return { header, lines };
      });
      return {
        path: newPath ?? oldPath ?? "(unknown file)",
        oldPath,
        newPath,
        kind,
        binary: patch.isBinary === true,
        hunks,
        additions,
        deletions,
      };
    });
}

/** A hunk's lines as split-view rows: a run of deletions is paired with the additions after it. */
export function splitRows(lines: readonly DiffLine[]): SplitRow[] {
  const rows: SplitRow[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.type !== "del" && line.type !== "add") {
      rows.push(line.type === "note" ? { left: line, right: undefined } : { left: line, right: line });
      i++;
      continue;
    }
    const dels: DiffLine[] = [];
    const adds: DiffLine[] = [];
    while (i < lines.length && lines[i]!.type === "del") dels.push(lines[i++]!);
    while (i < lines.length && lines[i]!.type === "add") adds.push(lines[i++]!);
    for (let k = 0; k < Math.max(dels.length, adds.length); k++) rows.push({ left: dels[k], right: adds[k] });
  }
  return rows;
}

/** `a/src/x.ts` → `src/x.ts`; `/dev/null` → undefined. */
function cleanPath(name: string | undefined): string | undefined {
  if (name === undefined || name === "/dev/null") return undefined;
  return name.replace(/^[ab]\//, "").replace(/\t.*$/, "");
}

/** One file's part of a multi-file diff, as text. */
export interface FileDiffText {
  path: string;
  text: string;
}

/** A diff cut into its files (git's `diff --git` headers; a diff without them is one file). */
export function splitDiffByFile(diff: string): FileDiffText[] {
  if (diff.trim() === "") return [];
  const parts = diff.split(/^(?=diff --git )/m).filter((part) => part.trim() !== "");
  return parts.map((text) => {
    let path: string | undefined;
    try {
      path = parseDiff(text)[0]?.path;
    } catch {
      path = undefined;
    }
    path ??= /^diff --git a\/(\S+)/.exec(text)?.[1] ?? "(unknown file)";
    return { path, text };
  });
}
