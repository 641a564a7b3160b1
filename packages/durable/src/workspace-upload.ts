// The upload half of a save: reads the files whose contents the store lacks, checks that each still
// has the hash it was walked with, compresses them (zlib) and stores them in batches. Files are read
// through their parent directory's fd (see workspace-fs.ts), one open per directory.
import { createHash } from "node:crypto";
import { type FileHandle, open } from "node:fs/promises";
import { promisify } from "node:util";
import { deflate, deflateSync } from "node:zlib";
import type { KilnStore, WorkspaceBlob, WorkspaceManifestEntry } from "@kiln/store";
import { at, mapLimit, openDirPath, openRoot, READ_FLAGS, readHandle } from "./workspace-fs.ts";
import type { SkippedEntry } from "./workspace-snapshot.ts";

const deflateAsync = promisify(deflate);

/** Compressed bytes per putBlobs call. */
const UPLOAD_BATCH_BYTES = 32 * 1024 * 1024;
/** Contents smaller than this are compressed on the event loop. */
const SYNC_DEFLATE_BYTES = 64 * 1024;
/** Directories read at once, and files at once in each. */
const CONCURRENCY = 4;

type FileEntry = Extract<WorkspaceManifestEntry, { type: "file" }>;

/**
 * Reads, checks and uploads the files of `missing` hashes. A file that changed since the walk is
 * uploaded with its new content and its entry updated (`changed`); one that is gone is left out; a
 * hash is uploaded from the first of its files that still has it.
 */
export async function uploadMissing(args: {
  root: string;
  userId: string;
  entries: WorkspaceManifestEntry[];
  missing: ReadonlySet<string>;
  /** Contents read by the walk, by path, with the hash they had. */
  contents: ReadonlyMap<string, { sha256: string; data: Buffer }>;
  maxFileBytes: number;
  store: KilnStore;
  signal: AbortSignal | undefined;
}): Promise<{
  entries: WorkspaceManifestEntry[];
  skipped: SkippedEntry[];
  changed: string[];
  blobs: number;
  bytes: number;
}> {
  const { missing, signal } = args;
  const candidates = new Map<string, FileEntry[]>();
  for (const entry of args.entries) {
    if (entry.type !== "file" || !missing.has(entry.sha256)) continue;
    candidates.set(entry.sha256, [...(candidates.get(entry.sha256) ?? []), entry]);
  }
  const replaced = new Map<string, FileEntry | undefined>();
  const skipped: SkippedEntry[] = [];
  const done = new Set<string>();
  let batch: WorkspaceBlob[] = [];
  let batchBytes = 0;
  let blobs = 0;
  let bytes = 0;
  const flush = async () => {
    const full = batch;
    batch = [];
    batchBytes = 0;
    if (full.length > 0) await args.store.workspaceCheckpoints.putBlobs(args.userId, full);
  };
  const add = async (sha256: string, content: Buffer) => {
    if (done.has(sha256)) return;
    done.add(sha256);
    // Small contents are compressed on the spot: a trip to the thread pool costs more.
    const data = new Uint8Array(
      content.byteLength < SYNC_DEFLATE_BYTES ? deflateSync(content) : await deflateAsync(content),
    );
    batch.push({ sha256, size: content.byteLength, data });
    batchBytes += data.byteLength;
    blobs++;
    bytes += data.byteLength;
    if (batchBytes >= UPLOAD_BATCH_BYTES) await flush();
  };

  for (const [sha, list] of candidates) {
    const known = list.map((entry) => args.contents.get(entry.path)).find((c) => c?.sha256 === sha);
    if (known !== undefined) await add(sha, known.data);
  }

  const root = await openRoot(args.root);
  try {
    // Each round reads one file per hash still needed, grouped by directory (one open per directory).
    for (let round = 0; ; round++) {
      const wanted = [...candidates].flatMap(([sha, list]) =>
        done.has(sha) || list[round] === undefined ? [] : [list[round] as FileEntry],
      );
      if (wanted.length === 0) break;
      const byDir = new Map<string, FileEntry[]>();
      for (const entry of wanted) {
        const parent = entry.path.includes("/") ? entry.path.slice(0, entry.path.lastIndexOf("/")) : "";
        byDir.set(parent, [...(byDir.get(parent) ?? []), entry]);
      }
      await mapLimit([...byDir], CONCURRENCY, async ([parent, files]) => {
        signal?.throwIfAborted();
        const dir = await openDirPath(root, parent === "" ? [] : parent.split("/"));
        if (dir === undefined) {
          for (const entry of files) replaced.set(entry.path, undefined);
          return;
        }
        try {
          await mapLimit(files, CONCURRENCY, async (entry) => {
            const content = await readFile(dir, entry.path, args.maxFileBytes);
            if (content.type !== "ok") {
              replaced.set(entry.path, undefined);
              if (content.type !== "gone") skipped.push({ path: entry.path, reason: content.type });
              return;
            }
            const sha256 = createHash("sha256").update(content.data).digest("hex");
            if (sha256 !== entry.sha256)
              replaced.set(entry.path, { ...entry, sha256, size: content.data.byteLength });
            await add(sha256, content.data);
          });
        } finally {
          await dir.close();
        }
      });
    }
    await flush();
  } finally {
    await root.close();
  }
  const entries = args.entries.flatMap((e) => {
    if (!replaced.has(e.path)) return [e];
    const next = replaced.get(e.path);
    return next === undefined ? [] : [next];
  });
  return { entries, skipped, changed: [...replaced.keys()], blobs, bytes };
}

/** A file's content, read through its open parent; why not, when it cannot be. */
async function readFile(
  dir: FileHandle,
  path: string,
  limit: number,
): Promise<{ type: "ok"; data: Buffer } | { type: "gone" } | { type: "too_large" } | { type: "unreadable" }> {
  let file: FileHandle;
  try {
    file = await open(at(dir, path.slice(path.lastIndexOf("/") + 1)), READ_FLAGS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ELOOP") return { type: "gone" };
    if (code === "EACCES" || code === "EPERM") return { type: "unreadable" };
    throw error;
  }
  try {
    const stat = await file.stat();
    if (!stat.isFile()) return { type: "gone" };
    const data = await readHandle(file, stat.size, limit);
    return data === undefined ? { type: "too_large" } : { type: "ok", data };
  } finally {
    await file.close();
  }
}
