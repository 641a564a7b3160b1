/**
 * Parses the `apply_patch` format (`*** Begin Patch` … `*** End Patch`) into hunks, without touching
 * the filesystem. Like Codex's parser it is lenient where models are sloppy: markers may be padded
 * with whitespace, the whole patch may be wrapped in a `<<'EOF'` … `EOF` heredoc, and the first chunk
 * of an update may omit its `@@` line.
 */
import { KilnError } from "@kiln/protocol";

/** One contiguous change inside an `*** Update File:` hunk. */
export type UpdateChunk = {
  /** The text after `@@ `: a line (usually a class or function signature) that occurs before `oldLines`. */
  changeContext?: string;
  /** The lines to find (context and `-` lines), without their one-character prefix. */
  oldLines: string[];
  /** The lines that replace them (context and `+` lines), without their one-character prefix. */
  newLines: string[];
  /** Whether the chunk ended with `*** End of File`: `oldLines` belong at the end of the file. */
  isEndOfFile: boolean;
};

/** `*** Add File: path`: create (or overwrite) a file with `contents`. */
export type AddFileHunk = { type: "add"; path: string; contents: string };

/** `*** Delete File: path`: remove an existing file. */
export type DeleteFileHunk = { type: "delete"; path: string };

/** `*** Update File: path`: edit an existing file in place, or move it to `movePath` as well. */
export type UpdateFileHunk = { type: "update"; path: string; movePath?: string; chunks: UpdateChunk[] };

/** One file operation of a patch. */
export type PatchHunk = AddFileHunk | DeleteFileHunk | UpdateFileHunk;

/** A parsed patch: its file operations in the order they were written. */
export type ParsedPatch = { hunks: PatchHunk[] };

const BEGIN_PATCH = "*** Begin Patch";
const END_PATCH = "*** End Patch";
const ADD_FILE = "*** Add File: ";
const DELETE_FILE = "*** Delete File: ";
const UPDATE_FILE = "*** Update File: ";
const MOVE_TO = "*** Move to: ";
const END_OF_FILE = "*** End of File";
const EMPTY_CONTEXT = "@@";
const CONTEXT_PREFIX = "@@ ";
const HEREDOC_OPENERS: ReadonlySet<string> = new Set(["<<EOF", "<<'EOF'", '<<"EOF"']);
const VALID_HEADERS = "'*** Add File: {path}', '*** Delete File: {path}', '*** Update File: {path}'";
const DIFF_LINE_HINT =
  "Every line should start with ' ' (context line), '+' (added line), or '-' (removed line)";

/** Lines `[start, end)` of the patch text that hold its hunks. */
type Body = { lines: readonly string[]; start: number; end: number };

/**
 * Parses patch text into hunks. Throws `KilnError("patch_invalid")` with the line number and what was
 * expected when the text is not a valid patch, or when it contains no file operation at all.
 */
export function parsePatch(text: string): ParsedPatch {
  const body = findBody(text);
  const hunks: PatchHunk[] = [];
  let index = body.start;
  while (index < body.end) {
    const parsed = parseHunk(body, index);
    hunks.push(parsed.hunk);
    index = parsed.next;
  }
  if (hunks.length === 0) {
    throw invalidPatch(
      "it contains no file operations, so nothing was changed. Add at least one '*** Add File:', '*** Delete File:' or '*** Update File:' section between the markers.",
    );
  }
  return { hunks };
}

/** Locates the lines between `*** Begin Patch` and `*** End Patch`, unwrapping a heredoc if needed. */
function findBody(text: string): Body {
  // Like Rust's `str::lines`: split on LF and drop the CR of a CRLF.
  const lines = text.split("\n").map((line) => (line.endsWith("\r") ? line.slice(0, -1) : line));
  const outer = nonBlankRange(lines, 0, lines.length);
  if (outer === undefined) {
    throw invalidPatch(
      `the patch is empty. It must start with '${BEGIN_PATCH}' and end with '${END_PATCH}'.`,
    );
  }
  const strictError = checkMarkers(lines, outer.first, outer.last);
  if (strictError === undefined) return { lines, start: outer.first + 1, end: outer.last };

  const opener = lines[outer.first]?.trim() ?? "";
  const closer = lines[outer.last]?.trim() ?? "";
  if (HEREDOC_OPENERS.has(opener) && closer.endsWith("EOF") && outer.last - outer.first + 1 >= 4) {
    const inner = nonBlankRange(lines, outer.first + 1, outer.last);
    const innerError = inner === undefined ? strictError : checkMarkers(lines, inner.first, inner.last);
    if (inner !== undefined && innerError === undefined) {
      return { lines, start: inner.first + 1, end: inner.last };
    }
    throw invalidPatch(innerError ?? strictError);
  }
  throw invalidPatch(strictError);
}

function nonBlankRange(
  lines: readonly string[],
  from: number,
  to: number,
): { first: number; last: number } | undefined {
  let first = from;
  while (first < to && (lines[first] ?? "").trim() === "") first++;
  let last = to - 1;
  while (last >= first && (lines[last] ?? "").trim() === "") last--;
  return first <= last ? { first, last } : undefined;
}

/** Returns what is wrong with the begin/end markers on lines `first` and `last`, if anything. */
function checkMarkers(lines: readonly string[], first: number, last: number): string | undefined {
  if ((lines[first] ?? "").trim() !== BEGIN_PATCH) {
    return `the first line of the patch must be '${BEGIN_PATCH}' (line ${first + 1}).`;
  }
  if (first === last || (lines[last] ?? "").trim() !== END_PATCH) {
    return `the last line of the patch must be '${END_PATCH}' (line ${last + 1}).`;
  }
  return undefined;
}

/** Parses the hunk whose header is on line `index`; returns it and the index of the line after it. */
function parseHunk(body: Body, index: number): { hunk: PatchHunk; next: number } {
  const header = (body.lines[index] ?? "").trim();

  if (header.startsWith(ADD_FILE)) {
    const path = headerPath(header, ADD_FILE, index);
    let contents = "";
    let next = index + 1;
    for (; next < body.end; next++) {
      const line = body.lines[next] ?? "";
      if (!line.startsWith("+")) break;
      contents += `${line.slice(1)}\n`;
    }
    return { hunk: { type: "add", path, contents }, next };
  }

  if (header.startsWith(DELETE_FILE)) {
    return { hunk: { type: "delete", path: headerPath(header, DELETE_FILE, index) }, next: index + 1 };
  }

  if (header.startsWith(UPDATE_FILE)) {
    return parseUpdateHunk(body, index, headerPath(header, UPDATE_FILE, index));
  }

  throw invalidHunk(index, `'${header}' is not a valid hunk header. Valid hunk headers: ${VALID_HEADERS}.`);
}

function headerPath(header: string, marker: string, index: number): string {
  const path = header.slice(marker.length).trim();
  if (path === "") throw invalidHunk(index, `'${header}' is missing a file path.`);
  return path;
}

function parseUpdateHunk(body: Body, index: number, path: string): { hunk: UpdateFileHunk; next: number } {
  let next = index + 1;
  let movePath: string | undefined;
  const moveLine = (body.lines[next] ?? "").trim();
  if (next < body.end && moveLine.startsWith(MOVE_TO)) {
    movePath = headerPath(moveLine, MOVE_TO, next);
    next++;
  }

  const chunks: UpdateChunk[] = [];
  while (next < body.end) {
    const line = body.lines[next] ?? "";
    // Blank lines may separate chunks.
    if (line.trim() === "") {
      next++;
      continue;
    }
    if (line.startsWith("*") || isFileHeader(line.trim())) break;
    const parsed = parseChunk(body, next, chunks.length === 0);
    chunks.push(parsed.chunk);
    next = parsed.next;
  }

  if (chunks.length === 0) {
    throw invalidHunk(
      index,
      `Update file hunk for path '${path}' is empty. Add at least one '@@' chunk of ' ', '-' and '+' lines, or use '*** Delete File:' to remove the file.`,
    );
  }
  const hunk: UpdateFileHunk =
    movePath === undefined ? { type: "update", path, chunks } : { type: "update", path, movePath, chunks };
  return { hunk, next };
}

function isFileHeader(line: string): boolean {
  return [ADD_FILE, DELETE_FILE, UPDATE_FILE].some((marker) => line.startsWith(marker)) || line === END_PATCH;
}

/** Parses one `@@` chunk starting on line `index`; the first chunk of a hunk may omit the `@@` line. */
function parseChunk(
  body: Body,
  index: number,
  allowMissingContext: boolean,
): { chunk: UpdateChunk; next: number } {
  const first = body.lines[index] ?? "";
  let changeContext: string | undefined;
  let next = index;
  if (first.trim() === EMPTY_CONTEXT) {
    next++;
  } else if (first.startsWith(CONTEXT_PREFIX)) {
    changeContext = first.slice(CONTEXT_PREFIX.length);
    next++;
  } else if (!allowMissingContext) {
    throw invalidHunk(index, `Expected update hunk to start with a @@ context marker, got: '${first}'.`);
  }
  if (next >= body.end) throw invalidHunk(next, "Update hunk does not contain any lines.");

  const chunk: UpdateChunk = { oldLines: [], newLines: [], isEndOfFile: false };
  if (changeContext !== undefined) chunk.changeContext = changeContext;
  const firstLine = next;
  for (; next < body.end; next++) {
    const line = body.lines[next] ?? "";
    if (line.trimEnd() === END_OF_FILE) {
      if (next === firstLine) throw invalidHunk(next, "Update hunk does not contain any lines.");
      chunk.isEndOfFile = true;
      next++;
      break;
    }
    const marker = line[0];
    const content = line.slice(1);
    if (marker === undefined) {
      // A bare empty line is an empty context line whose leading space was lost.
      chunk.oldLines.push("");
      chunk.newLines.push("");
    } else if (marker === " ") {
      chunk.oldLines.push(content);
      chunk.newLines.push(content);
    } else if (marker === "-") {
      chunk.oldLines.push(content);
    } else if (marker === "+") {
      chunk.newLines.push(content);
    } else if (next === firstLine) {
      throw invalidHunk(next, `Unexpected line found in update hunk: '${line}'. ${DIFF_LINE_HINT}.`);
    } else {
      // Anything else starts the next chunk or hunk.
      break;
    }
  }
  return { chunk, next };
}

function invalidPatch(message: string): KilnError {
  return new KilnError("patch_invalid", `Invalid patch: ${message}`);
}

function invalidHunk(index: number, message: string): KilnError {
  return new KilnError("patch_invalid", `Invalid patch hunk on line ${index + 1}: ${message}`, {
    details: { line: index + 1 },
  });
}
