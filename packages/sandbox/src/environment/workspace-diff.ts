// The diff of a whole workspace (tracked changes, new files, deletions) against a base commit,
// computed without touching the workspace's own index or object store. Sequence:
//   1. a scratch dir holds a temporary index (GIT_INDEX_FILE) and object directory
//      (GIT_OBJECT_DIRECTORY, the repository's objects as an alternate), so new blobs land there;
//   2. `git read-tree <base>` then `git add -A` stage the work tree as git would commit it (ignored
//      files, including `.git/info/exclude`, stay out);
//   3. `git diff --cached --binary -M <base>` for the patch, `--numstat` and `--name-status` for stats;
//   4. a text file that is not UTF-8 would be mangled in a JS string, so such files are diffed again
//      as binary (through a scratch attributes file) to keep the patch appliable.
import { isUtf8 } from "node:buffer";
import { mkdir, mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChangedFile, DiffStats } from "@kiln/protocol";
import { KilnError } from "@kiln/protocol";
import { gitOutput, type RunGitOptions, runGit } from "./run-git.ts";

/** A workspace's changes against its base commit. */
export interface WorkspaceDiff {
  /** A unified, binary-safe diff that `git apply` applies to a checkout of the base commit. */
  diff: string;
  stats: DiffStats;
  files: ChangedFile[];
}

const diffOptions = [
  "--no-color",
  "--no-ext-diff",
  "--no-textconv",
  "-M",
  "--src-prefix=a/",
  "--dst-prefix=b/",
];

/**
 * Diffs the work tree at `dir` (the top of a git work tree) against `baseCommit`. Files that git
 * ignores (`.gitignore`, `.git/info/exclude`) are left out.
 */
export async function workspaceDiff(
  dir: string,
  baseCommit: string,
  options: { signal?: AbortSignal } = {},
): Promise<WorkspaceDiff> {
  const root = await realpath(dir).catch(() => {
    throw new KilnError("invalid_request", `Cannot diff ${dir}: it does not exist.`);
  });
  const scratch = await mkdtemp(join(tmpdir(), "kiln-diff-"));
  try {
    const plain: RunGitOptions = {
      cwd: root,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    };
    const objects = await gitOutput(["rev-parse", "--path-format=absolute", "--git-path", "objects"], {
      ...plain,
      code: "invalid_request",
      what: `Cannot diff ${root}: it is not the top of a git work tree`,
    });
    const base = await runGit(["rev-parse", "--verify", "--quiet", `${baseCommit}^{commit}`], plain);
    if (base.exitCode !== 0) {
      throw new KilnError(
        "invalid_request",
        `Cannot diff ${root}: its repository has no commit ${baseCommit}.`,
      );
    }
    await mkdir(join(scratch, "objects"));
    const git: RunGitOptions = {
      ...plain,
      env: {
        GIT_INDEX_FILE: join(scratch, "index"),
        GIT_OBJECT_DIRECTORY: join(scratch, "objects"),
        GIT_ALTERNATE_OBJECT_DIRECTORIES: objects.trim(),
      },
    };
    const what = `Could not compute the diff of ${root}`;
    await gitOutput(["read-tree", baseCommit], { ...git, what });
    await gitOutput(["add", "-A"], { ...git, what });

    const nameStatus = await gitOutput(["diff", "--cached", "-M", "--name-status", "-z", baseCommit], {
      ...git,
      what,
    });
    const changes = parseNameStatus(nameStatus);
    let config: string[] = [];
    let patch = await diffBytes(config, baseCommit, git);
    if (!isUtf8(patch)) {
      const attributes = join(scratch, "attributes");
      await writeFile(attributes, binaryAttributes(patch, changes));
      config = ["-c", `core.attributesFile=${attributes}`];
      patch = await diffBytes(config, baseCommit, git);
    }
    const numstat = await gitOutput([...config, "diff", "--cached", "-M", "--numstat", "-z", baseCommit], {
      ...git,
      what,
    });
    const counts = parseNumstat(numstat);
    const files = changes.map((change): ChangedFile => {
      const count = counts.get(change.path) ?? { additions: 0, deletions: 0, binary: false };
      return { ...change, ...count };
    });
    const stats: DiffStats = {
      filesModified: files.length,
      linesAdded: files.reduce((sum, file) => sum + file.additions, 0),
      linesRemoved: files.reduce((sum, file) => sum + file.deletions, 0),
    };
    // Still not UTF-8 only when the repository's own .gitattributes forces such a file to be text.
    return { diff: patch.toString("utf8"), stats, files };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function diffBytes(config: string[], baseCommit: string, git: RunGitOptions): Promise<Buffer> {
  const result = await runGit([...config, "diff", "--cached", "--binary", ...diffOptions, baseCommit], git);
  if (result.exitCode !== 0) {
    throw new KilnError("internal", `Could not compute the diff: ${result.stderr}`);
  }
  return result.stdout;
}

type Change = Pick<ChangedFile, "path" | "kind" | "oldPath">;

/** Parses `git diff --name-status -z`: `STATUS\0path\0` or, for renames, `R<score>\0old\0new\0`. */
export function parseNameStatus(output: string): Change[] {
  const tokens = output.split("\0");
  const changes: Change[] = [];
  for (let i = 0; i + 1 < tokens.length; ) {
    const status = tokens[i] ?? "";
    if (status.startsWith("R") || status.startsWith("C")) {
      const oldPath = tokens[i + 1] ?? "";
      const path = tokens[i + 2] ?? "";
      changes.push(status.startsWith("R") ? { path, kind: "renamed", oldPath } : { path, kind: "added" });
      i += 3;
      continue;
    }
    const path = tokens[i + 1] ?? "";
    const kind = status === "A" ? "added" : status === "D" ? "deleted" : "modified";
    changes.push({ path, kind });
    i += 2;
  }
  return changes;
}

/** Parses `git diff --numstat -z` into counts by (new) path; binary files count `-`. */
export function parseNumstat(
  output: string,
): Map<string, { additions: number; deletions: number; binary: boolean }> {
  const tokens = output.split("\0");
  const counts = new Map<string, { additions: number; deletions: number; binary: boolean }>();
  for (let i = 0; i < tokens.length; ) {
    const [added = "", deleted = "", path = ""] = (tokens[i] ?? "").split("\t");
    if (added === "") break;
    // A rename has an empty path here, then the old and the new path as tokens of their own.
    const name = path === "" ? (tokens[i + 2] ?? "") : path;
    i += path === "" ? 3 : 1;
    const binary = added === "-";
    counts.set(name, {
      additions: binary ? 0 : Number(added),
      deletions: binary ? 0 : Number(deleted),
      binary,
    });
  }
  return counts;
}

/**
 * An attributes file marking as binary every file whose section of `patch` is not UTF-8. Sections
 * come in the same order as the `--name-status` entries (one `diff --git` header each).
 */
function binaryAttributes(patch: Buffer, changes: Change[]): string {
  const starts: number[] = [];
  const header = Buffer.from("diff --git ");
  for (let at = patch.indexOf(header); at >= 0; at = patch.indexOf(header, at + 1)) {
    if (at === 0 || patch[at - 1] === 0x0a) starts.push(at);
  }
  const lines: string[] = [];
  starts.forEach((start, index) => {
    const change = changes[index];
    if (change === undefined || isUtf8(patch.subarray(start, starts[index + 1] ?? patch.length))) return;
    for (const path of [change.path, change.oldPath])
      if (path !== undefined) lines.push(`${attributePattern(path)} binary`);
  });
  return `${lines.join("\n")}\n`;
}

/** `path` as an anchored, C-quoted gitattributes pattern with its glob characters escaped. */
function attributePattern(path: string): string {
  const glob = `/${path.replace(/[\\*?[]/g, "\\$&")}`;
  const quoted = glob
    .replace(/[\\"]/g, "\\$&")
    .replace(/[\x00-\x1f]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, "0")}`);
  return `"${quoted}"`;
}
