// File operations relative to an open directory, for trees written by untrusted commands. Node has no
// openat(2), so a child of an open directory is reached as `/proc/self/fd/<fd>/<name>`: the kernel
// starts from the directory the fd holds and resolves only `<name>`, so a path component swapped for
// a symlink cannot redirect an operation outside the tree. Directories are entered with O_NOFOLLOW;
// files are opened with O_NOFOLLOW and O_NONBLOCK (a fifo swapped in must not block a read).
import { createHash, randomBytes } from "node:crypto";
import { constants, existsSync, type Stats } from "node:fs";
import { type FileHandle, lstat, open, readdir, rmdir, unlink } from "node:fs/promises";
import { KilnError } from "@kiln/protocol";

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
/** Flags to read a regular file that must not be a link and must not block. */
export const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
/** Flags of a new temporary file (never an existing one, never through a link). */
export const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const CHUNK_BYTES = 1024 * 1024;

/** The path of `name` (one segment, or raw bytes of one) inside the directory open as `dir`. */
export function at(dir: FileHandle, name: string | Buffer): string | Buffer {
  const base = `/proc/self/fd/${dir.fd}/`;
  return typeof name === "string" ? base + name : Buffer.concat([Buffer.from(base), name]);
}

/** Opens the root of a tree (following links in `path` itself: the caller chose it). */
export async function openRoot(path: string): Promise<FileHandle> {
  if (!existsSync("/proc/self/fd")) {
    throw new KilnError(
      "config_invalid",
      "workspace checkpoints need /proc (Linux procfs) to work safely in untrusted trees: mount /proc in the worker",
    );
  }
  return open(path, constants.O_RDONLY | constants.O_DIRECTORY);
}

/** Opens a child directory; `undefined` when it is missing or not a real directory (e.g. a link). */
export async function openSubdir(dir: FileHandle, name: string | Buffer): Promise<FileHandle | undefined> {
  try {
    return await open(at(dir, name), DIR_FLAGS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR" || code === "ELOOP") return undefined;
    throw error;
  }
}

/** Opens `root/<segments…>`, each segment a real directory; `undefined` when one is not. */
export async function openDirPath(
  root: FileHandle,
  segments: readonly string[],
): Promise<FileHandle | undefined> {
  let current = root;
  for (const segment of segments) {
    const next = await openSubdir(current, segment);
    if (current !== root) await current.close();
    if (next === undefined) return undefined;
    current = next;
  }
  return current === root ? open(`/proc/self/fd/${root.fd}`, DIR_FLAGS & ~constants.O_NOFOLLOW) : current;
}

/** lstat of a child, `undefined` when it does not exist. */
export async function lstatAt(dir: FileHandle, name: string | Buffer): Promise<Stats | undefined> {
  try {
    return await lstat(at(dir, name));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** The names in an open directory, as raw bytes (a name need not be UTF-8). */
export function listDir(dir: FileHandle): Promise<Buffer[]> {
  return readdir(`/proc/self/fd/${dir.fd}`, { encoding: "buffer" });
}

/** The name as text, or `undefined` when its bytes are not UTF-8 (it cannot be stored as JSON). */
export function decodeName(raw: Buffer): string | undefined {
  const text = raw.toString("utf8");
  return Buffer.from(text, "utf8").equals(raw) ? text : undefined;
}

/** Deletes a child and, for a directory, everything in it (links are removed, never followed). */
export async function removeAt(dir: FileHandle, name: string | Buffer): Promise<number> {
  const sub = await openSubdir(dir, name);
  if (sub === undefined) {
    try {
      await unlink(at(dir, name));
      return 1;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return 0;
      throw error;
    }
  }
  let removed = 1;
  try {
    for (const child of await listDir(sub)) removed += await removeAt(sub, child);
  } finally {
    await sub.close();
  }
  await rmdir(at(dir, name));
  return removed;
}

/** A fresh name for a temporary entry next to the ones being replaced. */
export function tempName(): string {
  return `.kiln-restore-${randomBytes(6).toString("hex")}`;
}

/** A read buffer for a file of `sizeHint` bytes (one byte more, to see the end in one read). */
const bufferFor = (sizeHint: number) =>
  Buffer.allocUnsafe(sizeHint >= 0 && sizeHint < CHUNK_BYTES ? sizeHint + 1 : CHUNK_BYTES);

/** The hex SHA-256 and length of an open file's content, read in chunks. */
export async function hashHandle(
  fh: FileHandle,
  sizeHint: number,
  signal?: AbortSignal,
): Promise<{ sha256: string; size: number }> {
  const hash = createHash("sha256");
  const buffer = bufferFor(sizeHint);
  let size = 0;
  for (;;) {
    signal?.throwIfAborted();
    const { bytesRead } = await fh.read(buffer, 0, buffer.byteLength, null);
    hash.update(buffer.subarray(0, bytesRead));
    size += bytesRead;
    // A short read of a regular file is its end.
    if (bytesRead < buffer.byteLength) break;
  }
  return { sha256: hash.digest("hex"), size };
}

/** An open file's whole content, or `undefined` when it is longer than `limit` bytes. */
export async function readHandle(
  fh: FileHandle,
  sizeHint: number,
  limit: number,
): Promise<Buffer | undefined> {
  const parts: Buffer[] = [];
  let size = 0;
  for (;;) {
    const buffer = bufferFor(sizeHint - size);
    const { bytesRead } = await fh.read(buffer, 0, buffer.byteLength, null);
    size += bytesRead;
    if (size > limit) return undefined;
    parts.push(buffer.subarray(0, bytesRead));
    if (bytesRead < buffer.byteLength)
      return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, size);
  }
}

/** Runs `fn` over `items` with at most `limit` calls at once; results in order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * For recursive walks: `each(items, fn)` runs `fn` on an item concurrently while fewer than `max`
 * such calls run in all (across every level), else inline. Open directories stay bounded by
 * `max × depth`, where a per-level limit would allow `limit^depth`.
 */
export function createForker(max: number) {
  let active = 0;
  return async function each<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
    const forked: Promise<void>[] = [];
    for (const item of items) {
      if (active >= max) {
        await fn(item);
        continue;
      }
      active++;
      const run = fn(item).finally(() => {
        active--;
      });
      run.catch(() => undefined); // handled by Promise.all below; must not count as unhandled meanwhile
      forked.push(run);
    }
    await Promise.all(forked);
  };
}

/** What a file looked like when its hash was taken. */
export interface HashedStat {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  sha256: string;
  /** `false` when the file changed so shortly before hashing that a later write could keep its times. */
  trusted: boolean;
}

/** A file modified within this many ms of being read may change again without its times moving. */
const RACY_MS = 2000;

/** A cache entry for a file hashed at `hashedAt` (its stat taken before reading). */
export function hashedStat(stat: Stats, sha256: string, hashedAt: number, trusted?: boolean): HashedStat {
  return {
    size: stat.size,
    mtimeMs: stat.mtimeMs,
    ctimeMs: stat.ctimeMs,
    ino: stat.ino,
    sha256,
    trusted: trusted ?? hashedAt - stat.mtimeMs > RACY_MS,
  };
}

/** The cached hash of a file whose stat still matches, else `undefined`. */
export function cachedSha(entry: HashedStat | undefined, stat: Stats): string | undefined {
  if (entry === undefined || !entry.trusted) return undefined;
  const same =
    entry.size === stat.size &&
    entry.mtimeMs === stat.mtimeMs &&
    entry.ctimeMs === stat.ctimeMs &&
    entry.ino === stat.ino;
  return same ? entry.sha256 : undefined;
}
