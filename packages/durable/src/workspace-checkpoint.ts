// Workspace checkpoints for workers on node-local disks. A save walks the workspace into a manifest
// (workspace-snapshot.ts), asks the store which contents it lacks, reads, compresses and uploads only
// those (checking that each file still has the hash it was walked with), stores the manifest as the
// thread's newest checkpoint and prunes the older ones. A worker taking a turn over restores the
// newest checkpoint first (workspace-restore.ts). A per-tree cache of (size, times, inode) → hash
// keeps a re-save from reading files that did not change.
import { resolve } from "node:path";
import { KilnError, newId } from "@kiln/protocol";
import type { KilnStore } from "@kiln/store";
import type { HashedStat } from "./workspace-fs.ts";
import { type RestoreInfo, restoreTree } from "./workspace-restore.ts";
import { type SkippedEntry, snapshotTree } from "./workspace-snapshot.ts";
import { uploadMissing } from "./workspace-upload.ts";

export type { RestoreInfo } from "./workspace-restore.ts";
export type { SkippedEntry, SkipReason } from "./workspace-snapshot.ts";

/** Which thread's checkpoints (scoped to its owner). */
export interface CheckpointRef {
  userId: string;
  threadId: string;
}

/** A stored checkpoint, without its manifest. */
export interface CheckpointInfo {
  id: string;
  threadId: string;
  createdAt: number;
  /** Files in the checkpoint. */
  files: number;
  /** Their total size, uncompressed. */
  bytes: number;
}

/** What a save did. */
export interface SaveInfo extends CheckpointInfo {
  /** Entries left out (too large, special files, unreadable). */
  skipped: SkippedEntry[];
  /** Files read and hashed (the others' hashes came from the cache). */
  hashedFiles: number;
  /** New contents uploaded; `bytes` are compressed bytes. */
  uploaded: { blobs: number; bytes: number };
  /** Older checkpoints of the thread and blobs deleted after the save. */
  pruned: { checkpoints: number; blobs: number };
}

/** Saves and restores thread workspaces through the store. */
export interface WorkspaceCheckpointer {
  /**
   * Snapshots `dir` (the whole tree, .git included; symlinks as links, never followed; sockets, fifos
   * and devices skipped) and stores it as the thread's newest checkpoint, uploading only the contents
   * the store lacks. Too much data → `payload_too_large`; a thread the user lacks → `not_found`.
   */
  save(ref: CheckpointRef, dir: string, signal?: AbortSignal): Promise<SaveInfo>;
  /**
   * Makes `dir` exactly the checkpoint's tree (creating it when missing): writes the files that differ,
   * deletes entries not in it, fixes modes and links. Never writes or deletes outside `dir`; a manifest
   * that would → `path_escape`, and nothing is touched. No process may write in `dir` meanwhile.
   */
  restore(ref: CheckpointRef, checkpointId: string, dir: string, signal?: AbortSignal): Promise<RestoreInfo>;
  /** The thread's newest checkpoint. */
  latest(ref: CheckpointRef): Promise<CheckpointInfo | undefined>;
}

/** Options of a checkpointer. */
export interface WorkspaceCheckpointerOptions {
  /** Files larger than this are left out (default 64 MiB). */
  maxFileBytes?: number;
  /** A workspace with more file bytes than this cannot be saved (default 1 GiB). */
  maxTotalBytes?: number;
  /** Checkpoints kept per thread (default 3). */
  keep?: number;
  /** The clock (default `Date.now`). */
  now?: () => number;
}

/** Workspaces whose hash caches are kept (least recently used dropped first). */
const CACHED_TREES = 64;
/** A save whose blobs were pruned by a concurrent save of the same user uploads again this often. */
const CREATE_ATTEMPTS = 3;

/** A checkpointer over `store`. One instance per worker: it holds the hash caches. */
export function createWorkspaceCheckpointer(
  store: KilnStore,
  options: WorkspaceCheckpointerOptions = {},
): WorkspaceCheckpointer {
  const maxFileBytes = options.maxFileBytes ?? 64 * 1024 * 1024;
  const maxTotalBytes = options.maxTotalBytes ?? 1024 * 1024 * 1024;
  const keep = options.keep ?? 3;
  const now = options.now ?? Date.now;
  const caches = new Map<string, Map<string, HashedStat>>();
  const remember = (root: string, cache: Map<string, HashedStat>) => {
    caches.delete(root);
    caches.set(root, cache);
    for (const oldest of caches.keys()) {
      if (caches.size <= CACHED_TREES) break;
      caches.delete(oldest);
    }
  };
  const repo = store.workspaceCheckpoints;
  /** Per tree, this instance's last save: a save of the same tree unchanged makes no new checkpoint. */
  const lastSaved = new Map<string, { chain: string; manifest: string; result: SaveInfo }>();

  return {
    async save(ref, dir, signal) {
      const root = resolve(dir);
      const snapshot = await snapshotTree(root, {
        maxFileBytes,
        maxTotalBytes,
        cache: caches.get(root) ?? new Map(),
        signal,
      });
      // Nothing changed since this instance's last save, which is still the thread's newest: done.
      const chain = `${ref.userId}/${ref.threadId}`;
      const previous = lastSaved.get(root);
      if (previous?.chain === chain && previous.manifest === JSON.stringify(snapshot.entries)) {
        if ((await repo.latest(ref))?.id === previous.result.id) {
          remember(root, snapshot.cache);
          return {
            ...previous.result,
            hashedFiles: snapshot.hashed,
            uploaded: { blobs: 0, bytes: 0 },
            pruned: { checkpoints: 0, blobs: 0 },
          };
        }
      }
      let entries = snapshot.entries;
      const skipped = [...snapshot.skipped];
      const uploaded = { blobs: 0, bytes: 0 };
      for (let attempt = 1; ; attempt++) {
        const shas = entries.flatMap((e) => (e.type === "file" ? [e.sha256] : []));
        const missing = new Set(await repo.missingBlobs(ref.userId, shas));
        const upload = await uploadMissing({
          root,
          userId: ref.userId,
          entries,
          missing,
          contents: snapshot.contents,
          maxFileBytes,
          store,
          signal,
        });
        entries = upload.entries;
        skipped.push(...upload.skipped);
        uploaded.blobs += upload.blobs;
        uploaded.bytes += upload.bytes;
        for (const path of upload.changed) snapshot.cache.delete(path);
        signal?.throwIfAborted();
        let created: Awaited<ReturnType<typeof repo.create>>;
        try {
          created = await repo.create({
            id: newId("ckpt", now()),
            userId: ref.userId,
            threadId: ref.threadId,
            createdAt: now(),
            manifest: entries,
          });
        } catch (error) {
          const prunedMeanwhile =
            error instanceof KilnError && error.code === "conflict" && error.details?.missing !== undefined;
          if (!prunedMeanwhile || attempt >= CREATE_ATTEMPTS) throw error;
          continue;
        }
        remember(root, snapshot.cache);
        const pruned = await repo.prune({ userId: ref.userId, threadId: ref.threadId, keep });
        const result: SaveInfo = {
          ...toInfo(created),
          skipped: skipped.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
          hashedFiles: snapshot.hashed,
          uploaded,
          pruned,
        };
        lastSaved.delete(root);
        lastSaved.set(root, { chain, manifest: JSON.stringify(entries), result });
        for (const oldest of lastSaved.keys()) {
          if (lastSaved.size <= CACHED_TREES) break;
          lastSaved.delete(oldest);
        }
        return result;
      }
    },

    async restore(ref, checkpointId, dir, signal) {
      const checkpoint = await repo.get({ userId: ref.userId, id: checkpointId });
      if (checkpoint === undefined || checkpoint.threadId !== ref.threadId) {
        throw new KilnError(
          "not_found",
          `thread ${ref.threadId} of user ${ref.userId} has no workspace checkpoint ${checkpointId}`,
        );
      }
      const root = resolve(dir);
      const cache = new Map(caches.get(root));
      caches.delete(root);
      lastSaved.delete(root);
      const info = await restoreTree({ store, checkpoint, root, cache, signal });
      remember(root, cache);
      return info;
    },

    async latest(ref) {
      const checkpoint = await repo.latest(ref);
      return checkpoint === undefined ? undefined : toInfo(checkpoint);
    },
  };
}

function toInfo(c: {
  id: string;
  threadId: string;
  createdAt: number;
  files: number;
  bytes: number;
}): CheckpointInfo {
  return { id: c.id, threadId: c.threadId, createdAt: c.createdAt, files: c.files, bytes: c.bytes };
}
