/**
 * Applies an `apply_patch` patch to a workspace, atomically: every file changes or none does.
 *
 * 1. Parse the patch text.
 * 2. Resolve every path, refusing absolute paths and anything that lands outside the writable roots,
 *    lexically or through a symbolic link.
 * 3. Read every affected file and compute every new content in memory. Any problem throws here, before
 *    the filesystem is touched.
 * 4. Write: each new content goes to a temp file in the target's directory and is renamed into place;
 *    deletions come last. If a step fails, every file already changed is restored from the in-memory
 *    originals, files and directories the patch created are removed, and the error is thrown.
 */

import { isUtf8 } from "node:buffer";
import { randomUUID } from "node:crypto";
import {
  chmod,
  lstat,
  mkdir,
  readFile,
  realpath,
  rename,
  rm,
  rmdir,
  stat,
  unlink,
  writeFile,
} from "node:fs/promises";
import path from "node:path";
import { assertNever, KilnError } from "@kiln/protocol";
import { createTwoFilesPatch, FILE_HEADERS_ONLY } from "diff";
import type { PatchHunk, UpdateChunk } from "./parse-patch.ts";
import { parsePatch } from "./parse-patch.ts";
import { seekSequence } from "./seek-sequence.ts";

/** What one hunk of the patch did to one file. */
export type FileChange = {
  /** The path as written in the patch, relative to `cwd`. */
  path: string;
  kind: "add" | "delete" | "update";
  /** For a moved file: the destination, as written in the patch. */
  movePath?: string;
  /** Unified diff of the file (`--- a/path` / `+++ b/path`, `/dev/null` for an added or deleted file). */
  diff: string;
};

/** The outcome of a patch that applied. */
export type ApplyPatchResult = {
  /** One entry per hunk, in patch order. */
  changes: FileChange[];
  /** The tool output, exactly like Codex's: `Success. Updated the following files:\nA path\n…`. */
  summary: string;
};

/** Where a patch may write. */
export type ApplyPatchOptions = {
  /** The workspace directory that patch paths are relative to. */
  cwd: string;
  /** Directories the patch may change (absolute, or relative to `cwd`). Defaults to `[cwd]`. */
  writableRoots?: string[];
  /** Aborts before anything is written; once writing starts, the patch completes or rolls back. */
  signal?: AbortSignal;
};

/**
 * Applies `patchText` inside `options.cwd`. Throws `KilnError("patch_invalid")` when the patch is
 * malformed or does not match the files, `KilnError("path_escape")` when a path is absolute or leaves
 * the writable roots, and `KilnError("tool_error")` when writing fails (after rolling back). On any
 * error the workspace is left as it was.
 */
export async function applyPatch(patchText: string, options: ApplyPatchOptions): Promise<ApplyPatchResult> {
  options.signal?.throwIfAborted();
  const { hunks } = parsePatch(patchText);
  const cwd = path.resolve(options.cwd);
  const roots = await Promise.all(
    (options.writableRoots ?? [cwd]).map(async (root) => {
      const lexical = path.resolve(cwd, root);
      return { lexical, real: (await resolveReal(lexical, root)).real };
    }),
  );
  const resolve = (display: string) => resolveTarget(display, cwd, roots);

  const files = new Map<string, FileEntry>();
  const changes: FileChange[] = [];
  for (const hunk of hunks) changes.push(await planHunk(hunk, files, resolve));

  options.signal?.throwIfAborted();
  await commit([...files.values()]);
  return { changes, summary: summarize(changes) };
}

// ---------------------------------------------------------------------------------------------------
// Paths

type Target = {
  /** The path as written in the patch. */
  display: string;
  /** Absolute path with every existing symbolic link resolved: where reads and writes happen. */
  real: string;
  /** Whether the path itself is a symbolic link. */
  isLink: boolean;
};

type Root = { lexical: string; real: string };

async function resolveTarget(display: string, cwd: string, roots: readonly Root[]): Promise<Target> {
  if (path.isAbsolute(display)) {
    throw new KilnError(
      "path_escape",
      `refusing absolute path: ${display}. Patch paths must be relative to the workspace (${cwd}).`,
      { details: { path: display } },
    );
  }
  const lexical = path.resolve(cwd, display);
  if (!roots.some((root) => isInside(lexical, root.lexical))) {
    throw new KilnError("path_escape", `refusing to write outside the workspace: ${display}`, {
      details: { path: display },
    });
  }
  const { real, isLink } = await resolveReal(lexical, display);
  if (!roots.some((root) => isInside(real, root.real))) {
    throw new KilnError(
      "path_escape",
      `refusing to write outside the workspace: ${display} (a symbolic link leads to ${real})`,
      { details: { path: display, resolved: real } },
    );
  }
  return { display, real, isLink };
}

/** Resolves symbolic links in the longest existing prefix of `absolute`, keeping the missing rest. */
async function resolveReal(absolute: string, display: string): Promise<{ real: string; isLink: boolean }> {
  const missing: string[] = [];
  let current = absolute;
  for (;;) {
    const stats = await lstat(current).catch((error: unknown) => {
      if (isMissing(error)) return undefined;
      throw error;
    });
    if (stats !== undefined) {
      const real = await realpath(current).catch((error: unknown) => {
        throw new KilnError(
          "path_escape",
          `refusing to write through ${display}: ${current} is a symbolic link that cannot be resolved (${errorMessage(error)})`,
          { details: { path: display }, cause: error },
        );
      });
      return {
        real: path.join(real, ...missing.reverse()),
        isLink: current === absolute && stats.isSymbolicLink(),
      };
    }
    const parent = path.dirname(current);
    if (parent === current) return { real: absolute, isLink: false };
    missing.push(path.basename(current));
    current = parent;
  }
}

/** Whether `child` is strictly inside `parent`. */
function isInside(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return (
    relative !== "" &&
    relative !== ".." &&
    !relative.startsWith(`..${path.sep}`) &&
    !path.isAbsolute(relative)
  );
}

// ---------------------------------------------------------------------------------------------------
// Planning: the patch applied to an in-memory view of the affected files

type FileEntry = {
  target: Target;
  /** What was on disk before the patch. */
  original: { type: "missing" } | { type: "directory" } | { type: "file"; bytes: Buffer; mode: number };
  /** The content after the hunks planned so far; `undefined` when the file is absent. */
  current: string | undefined;
  /** Permission bits for a file this patch creates by moving another one. */
  movedMode?: number;
};

type Resolve = (display: string) => Promise<Target>;

async function planHunk(
  hunk: PatchHunk,
  files: Map<string, FileEntry>,
  resolve: Resolve,
): Promise<FileChange> {
  const entry = await load(files, await resolve(hunk.path));
  switch (hunk.type) {
    case "add": {
      refuseDirectory(entry, "add");
      const before = entry.current;
      entry.current = hunk.contents;
      return { path: hunk.path, kind: "add", diff: unifiedDiff(hunk.path, before, hunk.path, hunk.contents) };
    }
    case "delete": {
      refuseDirectory(entry, "delete");
      const before = requireFile(entry, "delete", "file not found");
      refuseLink(entry, "delete");
      entry.current = undefined;
      return { path: hunk.path, kind: "delete", diff: unifiedDiff(hunk.path, before, hunk.path, undefined) };
    }
    case "update": {
      refuseDirectory(entry, "update");
      const before = requireFile(entry, "update", "file not found. Use '*** Add File:' to create a new file");
      const after = deriveNewContents(before, hunk.chunks, hunk.path);
      if (hunk.movePath === undefined) {
        entry.current = after;
        return { path: hunk.path, kind: "update", diff: unifiedDiff(hunk.path, before, hunk.path, after) };
      }
      const destination = await load(files, await resolve(hunk.movePath));
      refuseDirectory(destination, "move", hunk.movePath);
      if (destination !== entry) {
        refuseLink(entry, "move");
        entry.current = undefined;
        if (entry.original.type === "file") destination.movedMode = entry.original.mode;
      }
      destination.current = after;
      return {
        path: hunk.path,
        kind: "update",
        movePath: hunk.movePath,
        diff: unifiedDiff(hunk.path, before, hunk.movePath, after),
      };
    }
    default:
      return assertNever(hunk);
  }
}

async function load(files: Map<string, FileEntry>, target: Target): Promise<FileEntry> {
  const known = files.get(target.real);
  if (known !== undefined) return known;
  const stats = await stat(target.real).catch((error: unknown) => {
    if (isMissing(error)) return undefined;
    throw error;
  });
  if (stats !== undefined && !stats.isFile() && !stats.isDirectory()) {
    throw new KilnError("patch_invalid", `Cannot patch ${target.display}: it is not a regular file.`);
  }
  const entry: FileEntry =
    stats === undefined
      ? { target, original: { type: "missing" }, current: undefined }
      : stats.isDirectory()
        ? { target, original: { type: "directory" }, current: undefined }
        : await loadFile(target, stats.mode);
  files.set(target.real, entry);
  return entry;
}

async function loadFile(target: Target, mode: number): Promise<FileEntry> {
  const bytes = await readFile(target.real);
  const current = isUtf8(bytes) ? bytes.toString("utf8") : undefined;
  if (current === undefined) {
    throw new KilnError("patch_invalid", `Cannot patch ${target.display}: it is not a UTF-8 text file.`);
  }
  return { target, original: { type: "file", bytes, mode }, current };
}

function refuseDirectory(entry: FileEntry, verb: string, display = entry.target.display): void {
  if (entry.original.type !== "directory") return;
  throw new KilnError(
    "patch_invalid",
    `Failed to ${verb} ${display}: it is a directory. apply_patch only works on individual files.`,
  );
}

function requireFile(entry: FileEntry, verb: string, why: string): string {
  if (entry.current !== undefined) return entry.current;
  throw new KilnError("patch_invalid", `Failed to ${verb} ${entry.target.display}: ${why}.`);
}

function refuseLink(entry: FileEntry, verb: string): void {
  if (!entry.target.isLink) return;
  throw new KilnError(
    "patch_invalid",
    `Failed to ${verb} ${entry.target.display}: it is a symbolic link. apply_patch edits the file a link points to but does not ${verb} links; use a shell command.`,
  );
}

function unifiedDiff(
  oldPath: string,
  before: string | undefined,
  newPath: string,
  after: string | undefined,
) {
  return createTwoFilesPatch(
    before === undefined ? "/dev/null" : `a/${oldPath}`,
    after === undefined ? "/dev/null" : `b/${newPath}`,
    before ?? "",
    after ?? "",
    undefined,
    undefined,
    { headerOptions: FILE_HEADERS_ONLY },
  );
}

// ---------------------------------------------------------------------------------------------------
// Content: applying update chunks to a file's lines

type Replacement = { start: number; removeCount: number; lines: readonly string[] };

/** Applies `chunks` to `text`. The result always ends with a line terminator, like Codex's. */
function deriveNewContents(text: string, chunks: readonly UpdateChunk[], display: string): string {
  const eol = usesCrlf(text) ? "\r\n" : "\n";
  const lines = text.split("\n").map((line) => (eol === "\r\n" ? line.replace(/\r$/, "") : line));
  // The terminator of the last line leaves an empty element behind.
  if (lines.at(-1) === "") lines.pop();

  const replacements = findReplacements(lines, chunks, display).sort((a, b) => a.start - b.start);
  const result: string[] = [];
  let position = 0;
  for (const { start, removeCount, lines: added } of replacements) {
    const from = Math.max(start, position);
    result.push(...lines.slice(position, from), ...added);
    position = from + removeCount;
  }
  result.push(...lines.slice(position));
  return result.map((line) => `${line}${eol}`).join("");
}

function findReplacements(lines: readonly string[], chunks: readonly UpdateChunk[], display: string) {
  const replacements: Replacement[] = [];
  let cursor = 0;
  for (const chunk of chunks) {
    if (chunk.changeContext !== undefined) {
      const found = seekSequence(lines, [chunk.changeContext], cursor, false);
      if (found === undefined) {
        throw new KilnError(
          "patch_invalid",
          `Failed to find context '${chunk.changeContext}' in ${display}. Re-read the file and use a line that exists after the previous chunk.`,
        );
      }
      cursor = found + 1;
    }

    if (chunk.oldLines.length === 0) {
      // A pure addition goes right after its `@@` context line, or else at the end of the file
      // (before a trailing blank line, as Codex does).
      const end = lines.at(-1) === "" ? lines.length - 1 : lines.length;
      const start = chunk.changeContext !== undefined && !chunk.isEndOfFile ? cursor : end;
      replacements.push({ start, removeCount: 0, lines: chunk.newLines });
      continue;
    }

    let pattern = chunk.oldLines;
    let added = chunk.newLines;
    let found = seekSequence(lines, pattern, cursor, chunk.isEndOfFile);
    // A trailing empty line in the chunk often stands for the file's final newline: retry without it.
    if (found === undefined && pattern.at(-1) === "") {
      pattern = pattern.slice(0, -1);
      if (added.at(-1) === "") added = added.slice(0, -1);
      found = seekSequence(lines, pattern, cursor, chunk.isEndOfFile);
    }
    if (found === undefined) {
      throw new KilnError(
        "patch_invalid",
        `Failed to find expected lines in ${display}:\n${chunk.oldLines.join("\n")}`,
      );
    }
    replacements.push({ start: found, removeCount: pattern.length, lines: added });
    cursor = found + pattern.length;
  }
  return replacements;
}

/** Whether every line break in `text` is CRLF. */
function usesCrlf(text: string): boolean {
  const lineFeeds = text.split("\n").length - 1;
  return lineFeeds > 0 && text.split("\r\n").length - 1 === lineFeeds;
}

// ---------------------------------------------------------------------------------------------------
// Writing, with rollback

type Undo =
  | { type: "restore"; path: string; bytes: Buffer; mode: number }
  | { type: "remove-file"; path: string }
  | { type: "remove-directory"; path: string };

async function commit(entries: readonly FileEntry[]): Promise<void> {
  const undo: Undo[] = [];
  const writes = entries.filter((entry) => entry.current !== undefined && !unchanged(entry));
  const deletions = entries.filter((entry) => entry.current === undefined && entry.original.type === "file");
  let step: FileEntry | undefined;
  try {
    for (const entry of writes) {
      step = entry;
      await write(entry, entry.current ?? "", undo);
    }
    for (const entry of deletions) {
      step = entry;
      await unlink(entry.target.real);
      if (entry.original.type === "file") undo.push(restoreStep(entry.target.real, entry.original));
    }
  } catch (error) {
    const failures = await rollback(undo);
    const what = step === undefined ? "the patch" : step.target.display;
    const restored =
      failures.length === 0
        ? "No files were changed: everything already written was restored."
        : `Restoring the workspace also failed, so it may be partly patched: ${failures.join("; ")}.`;
    throw new KilnError("tool_error", `Failed to write ${what}: ${errorMessage(error)}. ${restored}`, {
      cause: error,
    });
  }
}

function unchanged(entry: FileEntry): boolean {
  return (
    entry.original.type === "file" && entry.original.bytes.equals(Buffer.from(entry.current ?? "", "utf8"))
  );
}

async function write(entry: FileEntry, content: string, undo: Undo[]): Promise<void> {
  const target = entry.target.real;
  await makeParents(path.dirname(target), undo);
  const mode = entry.original.type === "file" ? entry.original.mode : entry.movedMode;
  await replaceFile(target, Buffer.from(content, "utf8"), mode);
  undo.push(
    entry.original.type === "file"
      ? restoreStep(target, entry.original)
      : { type: "remove-file", path: target },
  );
}

function restoreStep(target: string, original: { bytes: Buffer; mode: number }): Undo {
  return { type: "restore", path: target, bytes: original.bytes, mode: original.mode };
}

/** Creates `directory` and its missing ancestors, recording each one it creates for rollback. */
async function makeParents(directory: string, undo: Undo[]): Promise<void> {
  const missing: string[] = [];
  for (let current = directory; ; current = path.dirname(current)) {
    const exists = await lstat(current).then(
      () => true,
      (error: unknown) => {
        if (isMissing(error)) return false;
        throw error;
      },
    );
    if (exists || path.dirname(current) === current) break;
    missing.push(current);
  }
  if (missing.length === 0) return;
  // Recorded before mkdir: a failure half-way may still leave some of them behind.
  for (const created of missing.reverse()) undo.push({ type: "remove-directory", path: created });
  await mkdir(directory, { recursive: true });
}

/** Writes `bytes` to a temp file next to `target`, then renames it over `target`. */
async function replaceFile(target: string, bytes: Buffer, mode: number | undefined): Promise<void> {
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${randomUUID()}.kiln-tmp`);
  try {
    await writeFile(temp, bytes, { flag: "wx" });
    if (mode !== undefined) await chmod(temp, mode & 0o7777);
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Undoes `undo` newest first; returns what could not be undone. */
async function rollback(undo: readonly Undo[]): Promise<string[]> {
  const failures: string[] = [];
  for (const step of [...undo].reverse()) {
    try {
      switch (step.type) {
        case "restore":
          await replaceFile(step.path, step.bytes, step.mode);
          break;
        case "remove-file":
          await rm(step.path, { force: true });
          break;
        case "remove-directory":
          // Missing means mkdir never got this far.
          await rmdir(step.path).catch((error: unknown) => {
            if (!isMissing(error)) throw error;
          });
          break;
        default:
          assertNever(step);
      }
    } catch (error) {
      failures.push(`${step.path}: ${errorMessage(error)}`);
    }
  }
  return failures;
}

// ---------------------------------------------------------------------------------------------------

/** Codex's tool output: added, then modified (moves under their destination), then deleted files. */
function summarize(changes: readonly FileChange[]): string {
  const lines = (kind: FileChange["kind"], letter: string) =>
    changes
      .filter((change) => change.kind === kind)
      .map((change) => `${letter} ${change.movePath ?? change.path}\n`);
  return [
    "Success. Updated the following files:\n",
    ...lines("add", "A"),
    ...lines("update", "M"),
    ...lines("delete", "D"),
  ].join("");
}

function isMissing(error: unknown): boolean {
  const code = error instanceof Error && "code" in error ? error.code : undefined;
  return code === "ENOENT" || code === "ENOTDIR";
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
