// Walks a workspace into a checkpoint manifest: every directory, regular file (with its SHA-256) and
// symlink (as a link, never followed); sockets, fifos and devices are skipped. Directories are entered
// through their open fds (see workspace-fs.ts), one level of the tree open at a time; the files of a
// directory are stat'ed and hashed a few at once. A file whose size, times and inode match the cache
// is not read again, so a re-save after a small change reads only the changed files.
import { createHash } from "node:crypto";
import { type FileHandle, open, readlink } from "node:fs/promises";
import { KilnError } from "@kiln/protocol";
import type { WorkspaceManifestEntry } from "@kiln/store";
import {
  at,
  cachedSha,
  createForker,
  decodeName,
  type HashedStat,
  hashedStat,
  hashHandle,
  listDir,
  lstatAt,
  mapLimit,
  openRoot,
  openSubdir,
  READ_FLAGS,
  readHandle,
} from "./workspace-fs.ts";

/** Why an entry of the workspace is not in a checkpoint. */
export type SkipReason =
  /** Larger than `maxFileBytes`. */
  | "too_large"
  /** A socket, fifo or device. */
  | "special_file"
  /** Its name is not UTF-8. */
  | "unreadable_name"
  /** The worker may not read it (permissions). */
  | "unreadable";

/** An entry left out of a checkpoint. */
export interface SkippedEntry {
  /** Relative to the workspace (a name that is not UTF-8 is shown with replacement characters). */
  path: string;
  reason: SkipReason;
}

/** A walked tree. */
export interface Snapshot {
  /** Sorted by path (a directory before its contents). */
  entries: WorkspaceManifestEntry[];
  skipped: SkippedEntry[];
  /** How many files were read and hashed (the others came from the cache). */
  hashed: number;
  /** The cache for the next walk: every file of this one. */
  cache: Map<string, HashedStat>;
  /** The content of small files that were read (not cached), exactly as hashed. */
  contents: Map<string, { sha256: string; data: Buffer }>;
}

/** Limits and state of one walk. */
export interface SnapshotOptions {
  maxFileBytes: number;
  maxTotalBytes: number;
  /** The previous walk's cache of this tree. */
  cache: ReadonlyMap<string, HashedStat>;
  signal?: AbortSignal;
}

/** Files stat'ed and hashed at once within one directory. */
const CONCURRENCY = 16;
/** Files up to this size are kept in memory once read, up to KEEP_TOTAL_BYTES in all. */
const KEEP_FILE_BYTES = 64 * 1024;
const KEEP_TOTAL_BYTES = 64 * 1024 * 1024;
/** Directories walked at once. */
const DIRECTORIES = 8;

/** Walks `root` (which must be a directory) into a sorted manifest. */
export async function snapshotTree(root: string, options: SnapshotOptions): Promise<Snapshot> {
  const entries: WorkspaceManifestEntry[] = [];
  const skipped: SkippedEntry[] = [];
  const cache = new Map<string, HashedStat>();
  let hashed = 0;
  let total = 0;
  const forEachDir = createForker(DIRECTORIES);
  const contents = new Map<string, { sha256: string; data: Buffer }>();
  let kept = 0;
  const tooBig = () =>
    new KilnError(
      "payload_too_large",
      `the workspace ${root} holds more than ${options.maxTotalBytes} bytes of files, the checkpoint limit: ` +
        "delete build outputs and caches it does not need (or add them to a separate volume), or raise maxTotalBytes",
      { details: { limit: options.maxTotalBytes } },
    );

  const visit = async (dir: FileHandle, prefix: string): Promise<void> => {
    options.signal?.throwIfAborted();
    const names = await listDir(dir);
    const subdirs: Array<{ name: string; path: string }> = [];
    await mapLimit(names, CONCURRENCY, async (raw) => {
      const name = decodeName(raw);
      const shown = `${prefix}${name ?? raw.toString("utf8")}`;
      if (name === undefined) {
        skipped.push({ path: shown, reason: "unreadable_name" });
        return;
      }
      const path = prefix + name;
      const stat = await lstatAt(dir, name);
      if (stat === undefined) return; // deleted while we walked
      const mode = stat.mode & 0o777;
      if (stat.isDirectory()) {
        entries.push({ type: "dir", path, mode });
        subdirs.push({ name, path });
        return;
      }
      if (stat.isSymbolicLink()) {
        entries.push({ type: "symlink", path, target: await readlink(at(dir, name), "utf8") });
        return;
      }
      if (!stat.isFile()) {
        skipped.push({ path, reason: "special_file" });
        return;
      }
      if (stat.size > options.maxFileBytes) {
        skipped.push({ path, reason: "too_large" });
        return;
      }
      total += stat.size;
      if (total > options.maxTotalBytes) throw tooBig();
      const known = cachedSha(options.cache.get(path), stat);
      if (known !== undefined) {
        cache.set(path, hashedStat(stat, known, 0, true));
        entries.push({ type: "file", path, mode, sha256: known, size: stat.size });
        return;
      }
      options.signal?.throwIfAborted();
      const hashedAt = Date.now();
      let file: FileHandle;
      try {
        file = await open(at(dir, name), READ_FLAGS);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOENT" || code === "ELOOP") return; // deleted or replaced while we walked
        if (code === "EACCES" || code === "EPERM") {
          skipped.push({ path, reason: "unreadable" });
          return;
        }
        throw error;
      }
      try {
        const opened = await file.stat();
        if (!opened.isFile()) return;
        let sha256: string;
        let size: number;
        if (opened.size <= KEEP_FILE_BYTES && kept + opened.size <= KEEP_TOTAL_BYTES) {
          // Kept for the upload that follows (a changed file is usually a missing blob): no second read.
          const content = await readHandle(file, opened.size, options.maxFileBytes);
          if (content === undefined) return; // grew past the limit while we read: seen next time
          sha256 = createHash("sha256").update(content).digest("hex");
          size = content.byteLength;
          contents.set(path, { sha256, data: content });
          kept += size;
        } else {
          ({ sha256, size } = await hashHandle(file, opened.size, options.signal));
        }
        hashed++;
        total += size - stat.size;
        if (size === opened.size) cache.set(path, hashedStat(opened, sha256, hashedAt));
        entries.push({ type: "file", path, mode: opened.mode & 0o777, sha256, size });
      } finally {
        await file.close();
      }
    });
    await forEachDir(subdirs, async (sub) => {
      let handle: FileHandle | undefined;
      try {
        handle = await openSubdir(dir, sub.name);
        // Replaced while we walked: its entry stays as it was seen, empty.
        if (handle !== undefined) await visit(handle, `${sub.path}/`);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EACCES") throw error;
        skipped.push({ path: sub.path, reason: "unreadable" });
      } finally {
        await handle?.close();
      }
    });
  };

  const rootHandle = await openRoot(root);
  try {
    await visit(rootHandle, "");
  } finally {
    await rootHandle.close();
  }
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  skipped.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { entries, skipped, hashed, cache, contents };
}
