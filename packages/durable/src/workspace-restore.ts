// Makes a directory exactly a checkpoint's tree. The manifest is checked first (no `..`, absolute or
// empty segments, no duplicates, every parent a directory of the manifest: a file under a symlink is
// refused). Then one pass over the tree, through open directory fds (see workspace-fs.ts): entries
// not in the manifest are deleted (links removed, never followed), directories made, links set, and
// files compared by hash. Files that differ are then written from blobs fetched in batches, each to a
// new temporary file renamed over the old one, so no file is ever half-written. Directory modes last.
import { createHash } from "node:crypto";
import type { Stats } from "node:fs";
import { type FileHandle, mkdir, open, readlink, rename, symlink } from "node:fs/promises";
import { promisify } from "node:util";
import { inflate } from "node:zlib";
import { KilnError } from "@kiln/protocol";
import type { KilnStore, StoredWorkspaceCheckpoint, WorkspaceManifestEntry } from "@kiln/store";
import {
  at,
  CREATE_FLAGS,
  cachedSha,
  createForker,
  decodeName,
  type HashedStat,
  hashedStat,
  hashHandle,
  listDir,
  lstatAt,
  mapLimit,
  openDirPath,
  openRoot,
  openSubdir,
  READ_FLAGS,
  removeAt,
  tempName,
} from "./workspace-fs.ts";

const inflateAsync = promisify(inflate);

/** What a restore did. Files and symlinks are counted; directories are not. */
export interface RestoreInfo {
  checkpointId: string;
  /** Files and links written (new or different). */
  written: number;
  /** Files and links that were already as in the checkpoint. */
  unchanged: number;
  /** Entries deleted (everything inside a deleted directory included). */
  deleted: number;
  /** Bytes of file content written. */
  bytesWritten: number;
}

/** Uncompressed bytes of blobs fetched per query. */
const FETCH_BATCH_BYTES = 64 * 1024 * 1024;
const FETCH_BATCH_BLOBS = 500;
/** Entries handled at once within one directory. */
const CONCURRENCY = 16;
/** Directories handled at once. */
const DIRECTORIES = 8;

type FileEntry = Extract<WorkspaceManifestEntry, { type: "file" }>;
type DirEntry = Extract<WorkspaceManifestEntry, { type: "dir" }>;

const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
const nameOf = (path: string) => path.slice(path.lastIndexOf("/") + 1);
const parentOf = (path: string) => (path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "");
const segmentsOf = (path: string) => (path === "" ? [] : path.split("/"));

/** Refuses a manifest that could reach outside the workspace; returns the entries by parent path. */
export function checkManifest(checkpointId: string, manifest: readonly WorkspaceManifestEntry[]) {
  const refuse = (path: string, why: string) =>
    new KilnError(
      "path_escape",
      `workspace checkpoint ${checkpointId} has an entry "${path}" that ${why}; nothing was restored`,
    );
  const byPathMap = new Map<string, WorkspaceManifestEntry>();
  for (const entry of manifest) {
    const segments = entry.path.split("/");
    if (segments.some((s) => s === "" || s === "." || s === ".." || s.includes("\0"))) {
      throw refuse(entry.path, "is not a plain relative path (absolute, `..`, `.` or empty segments)");
    }
    if (byPathMap.has(entry.path)) throw refuse(entry.path, "appears twice");
    byPathMap.set(entry.path, entry);
  }
  const children = new Map<string, WorkspaceManifestEntry[]>([["", []]]);
  for (const entry of [...manifest].sort(byPath)) {
    const parent = parentOf(entry.path);
    const parentEntry = byPathMap.get(parent);
    if (parent !== "" && parentEntry?.type !== "dir") {
      throw refuse(
        entry.path,
        parentEntry === undefined ? "has no parent directory in it" : `is inside a ${parentEntry.type}`,
      );
    }
    children.get(parent)?.push(entry);
    if (entry.type === "dir") children.set(entry.path, []);
  }
  return children;
}

/** Restores `checkpoint` into `root`; `cache` is the tree's hash cache, updated in place. */
export async function restoreTree(options: {
  store: KilnStore;
  checkpoint: StoredWorkspaceCheckpoint;
  root: string;
  cache: Map<string, HashedStat>;
  signal?: AbortSignal;
}): Promise<RestoreInfo> {
  const { checkpoint, cache, signal } = options;
  const children = checkManifest(checkpoint.id, checkpoint.manifest);
  const info: RestoreInfo = {
    checkpointId: checkpoint.id,
    written: 0,
    unchanged: 0,
    deleted: 0,
    bytesWritten: 0,
  };
  const pending: FileEntry[] = [];
  const dirModes: Array<{ path: string; mode: number }> = [];
  const known = new Map(cache);
  const forEachDir = createForker(DIRECTORIES);
  cache.clear();

  /** Whether the file on disk has the entry's content (then its mode is fixed too). */
  const sameFile = async (dir: FileHandle, entry: FileEntry, stat: Stats): Promise<boolean> => {
    if (!stat.isFile() || stat.size !== entry.size) return false;
    const name = nameOf(entry.path);
    let sha = cachedSha(known.get(entry.path), stat);
    let current = stat;
    if (sha === undefined) {
      const hashedAt = Date.now();
      const file = await open(at(dir, name), READ_FLAGS);
      try {
        current = await file.stat();
        if (!current.isFile()) return false;
        sha = (await hashHandle(file, current.size, signal)).sha256;
      } finally {
        await file.close();
      }
      cache.set(entry.path, hashedStat(current, sha, hashedAt));
    } else {
      cache.set(entry.path, hashedStat(current, sha, 0, true));
    }
    if (sha !== entry.sha256) return false;
    if ((current.mode & 0o777) !== entry.mode) {
      const file = await open(at(dir, name), READ_FLAGS);
      try {
        await file.chmod(entry.mode);
        cache.set(entry.path, hashedStat(await file.stat(), sha, 0, cache.get(entry.path)?.trusted ?? false));
      } finally {
        await file.close();
      }
    }
    return true;
  };

  const reconcile = async (dir: FileHandle, path: string): Promise<void> => {
    signal?.throwIfAborted();
    const expected = new Map((children.get(path) ?? []).map((e) => [nameOf(e.path), e]));
    for (const raw of await listDir(dir)) {
      const name = decodeName(raw);
      if (name === undefined || !expected.has(name)) info.deleted += await removeAt(dir, raw);
    }
    const dirs: Array<[string, DirEntry]> = [];
    const others: Array<[string, Exclude<WorkspaceManifestEntry, DirEntry>]> = [];
    for (const [name, entry] of expected) {
      if (entry.type === "dir") dirs.push([name, entry]);
      else others.push([name, entry]);
    }
    await mapLimit(others, CONCURRENCY, async ([name, entry]) => {
      const stat = await lstatAt(dir, name);
      if (stat?.isDirectory()) info.deleted += await removeAt(dir, name);
      if (entry.type === "symlink") {
        if (stat?.isSymbolicLink() && (await readlink(at(dir, name), "utf8")) === entry.target) {
          info.unchanged++;
          return;
        }
        const temp = tempName();
        await symlink(entry.target, at(dir, temp));
        await rename(at(dir, temp), at(dir, name));
        info.written++;
        return;
      }
      if (entry.type === "file" && stat !== undefined && (await sameFile(dir, entry, stat))) info.unchanged++;
      else if (entry.type === "file") pending.push(entry);
    });
    await forEachDir(dirs, async ([name, entry]) => {
      const stat = await lstatAt(dir, name);
      if (stat !== undefined && !stat.isDirectory()) info.deleted += await removeAt(dir, name);
      if (stat === undefined || !stat.isDirectory()) await mkdir(at(dir, name), 0o700);
      const sub = await openSubdir(dir, name);
      if (sub === undefined)
        throw new KilnError("path_escape", `${entry.path} changed while it was restored`);
      try {
        // Owner rwx while restoring inside; the checkpoint's mode is set at the end.
        const mode = (await sub.stat()).mode & 0o777;
        if ((mode & 0o700) !== 0o700) await sub.chmod(mode | 0o700);
        if (mode !== entry.mode || (mode & 0o700) !== 0o700)
          dirModes.push({ path: entry.path, mode: entry.mode });
        await reconcile(sub, entry.path);
      } finally {
        await sub.close();
      }
    });
  };

  await mkdir(options.root, { recursive: true });
  const root = await openRoot(options.root);
  try {
    await reconcile(root, "");
    await writeFiles(options.store, checkpoint, root, pending, cache, info, signal);
    // Deepest first, so that a read-only directory is made so after everything inside it.
    for (const { path, mode } of dirModes.sort(byPath).reverse()) {
      const handle = await openDirPath(root, segmentsOf(path));
      if (handle === undefined) throw new KilnError("path_escape", `${path} changed while it was restored`);
      await handle.chmod(mode).finally(() => handle.close());
    }
  } finally {
    await root.close();
  }
  return info;
}

/** Fetches the blobs of `pending` in batches and writes each file by temp file + rename. */
async function writeFiles(
  store: KilnStore,
  checkpoint: StoredWorkspaceCheckpoint,
  root: FileHandle,
  pending: readonly FileEntry[],
  cache: Map<string, HashedStat>,
  info: RestoreInfo,
  signal: AbortSignal | undefined,
): Promise<void> {
  const sorted = [...pending].sort(byPath);
  for (let start = 0; start < sorted.length; ) {
    signal?.throwIfAborted();
    const batch: FileEntry[] = [];
    const shas = new Set<string>();
    let bytes = 0;
    while (start < sorted.length && shas.size < FETCH_BATCH_BLOBS) {
      const entry = sorted[start] as FileEntry;
      if (batch.length > 0 && bytes + entry.size > FETCH_BATCH_BYTES) break;
      batch.push(entry);
      if (!shas.has(entry.sha256)) bytes += entry.size;
      shas.add(entry.sha256);
      start++;
    }
    const contents = new Map<string, Buffer>();
    for (const blob of await store.workspaceCheckpoints.getBlobs(checkpoint.userId, [...shas])) {
      const content = await inflateAsync(blob.data);
      if (createHash("sha256").update(content).digest("hex") !== blob.sha256) {
        throw new KilnError(
          "internal",
          `the stored blob ${blob.sha256} does not match its hash: the store is corrupt`,
        );
      }
      contents.set(blob.sha256, content);
    }
    const byDir = new Map<string, FileEntry[]>();
    for (const entry of batch)
      byDir.set(parentOf(entry.path), [...(byDir.get(parentOf(entry.path)) ?? []), entry]);
    await mapLimit([...byDir], DIRECTORIES, async ([parent, files]) => {
      const dir = await openDirPath(root, segmentsOf(parent));
      if (dir === undefined) throw new KilnError("path_escape", `${parent} changed while it was restored`);
      try {
        await mapLimit(files, CONCURRENCY, async (entry) => {
          const content = contents.get(entry.sha256);
          if (content === undefined) {
            throw new KilnError(
              "not_found",
              `workspace checkpoint ${checkpoint.id} needs content that is no longer stored (blob ${entry.sha256}): ` +
                "restore a newer checkpoint of the thread",
            );
          }
          const name = nameOf(entry.path);
          const temp = tempName();
          const file = await open(at(dir, temp), CREATE_FLAGS, 0o600);
          try {
            await file.writeFile(content);
            await file.chmod(entry.mode);
          } finally {
            await file.close();
          }
          await rename(at(dir, temp), at(dir, name));
          const written = await lstatAt(dir, name);
          // Written by us just now: trusted, no command runs in the tree while it is restored.
          if (written !== undefined) cache.set(entry.path, hashedStat(written, entry.sha256, 0, true));
          info.written++;
          info.bytesWritten += content.byteLength;
        });
      } finally {
        await dir.close();
      }
    });
  }
}
