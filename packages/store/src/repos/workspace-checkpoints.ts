// Workspace checkpoints and their content blobs, per user. A checkpoint's blobs are listed in
// workspace_checkpoint_blobs, whose foreign key keeps a checkpoint from naming content that is not
// stored. On PostgreSQL, `create` and `prune` of one user hold the same advisory lock, so a prune
// never deletes a blob between a create's check and its insert (on SQLite, transactions are serial).
import { KilnError } from "@kiln/protocol";
import { z } from "zod";
import type {
  StoredWorkspaceCheckpoint,
  WorkspaceBlob,
  WorkspaceCheckpointRepo,
  WorkspaceManifestEntry,
} from "../kiln-store.ts";
import { bytes, jsonText, parseRow, parseRows } from "../sql/rows.ts";
import type { SqlExecutor } from "../sql/sql-database.ts";

/** Hashes per `IN (…)` list and rows per multi-row insert: well under both databases' limits. */
const CHUNK = 500;
/** At most this many bytes of blob data in one insert statement. */
const PUT_BATCH_BYTES = 32 * 1024 * 1024;
/** First key of the PostgreSQL advisory lock (the second is a hash of the user id). */
const LOCK_CLASS = 48_510_031;

const Mode = z.number().int().min(0).max(0o777);
const RelativePath = z.string().min(1);

const ManifestEntry = z.discriminatedUnion("type", [
  z.object({ type: z.literal("dir"), path: RelativePath, mode: Mode }),
  z.object({
    type: z.literal("file"),
    path: RelativePath,
    mode: Mode,
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    size: z.number().int().min(0),
  }),
  z.object({ type: z.literal("symlink"), path: RelativePath, target: z.string().min(1) }),
]);
const Manifest = z.array(ManifestEntry);

// The schema and the store's type must agree (a compile error otherwise).
type ParsedEntry = z.output<typeof ManifestEntry>;
const _sameShape: [ParsedEntry, WorkspaceManifestEntry] extends [WorkspaceManifestEntry, ParsedEntry]
  ? true
  : never = true;
void _sameShape;

const COLUMNS = "id, user_id, thread_id, created_at, manifest, files, bytes";

const CheckpointRow = z
  .object({
    id: z.string(),
    user_id: z.string(),
    thread_id: z.string(),
    created_at: z.number(),
    manifest: jsonText(Manifest),
    files: z.number(),
    bytes: z.number(),
  })
  .transform(
    (r): StoredWorkspaceCheckpoint => ({
      id: r.id,
      userId: r.user_id,
      threadId: r.thread_id,
      createdAt: r.created_at,
      manifest: r.manifest,
      files: r.files,
      bytes: r.bytes,
    }),
  );

const BlobRow = z
  .object({ sha256: z.string(), size: z.number(), data: bytes })
  .transform((r): WorkspaceBlob => ({ sha256: r.sha256, size: r.size, data: r.data }));

const ShaRow = z.object({ sha256: z.string() });

/** Splits a list into pieces of at most `size`. */
function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const placeholders = (n: number, row = "?") => Array.from({ length: n }, () => row).join(", ");

/** Workspace checkpoints and blobs, scoped to their user. */
export function createWorkspaceCheckpointRepo(db: SqlExecutor): WorkspaceCheckpointRepo {
  const lockUser = async (tx: SqlExecutor, userId: string) => {
    if (tx.dialect === "postgres") {
      await tx.query("SELECT pg_advisory_xact_lock(?, hashtext(?))", [LOCK_CLASS, userId]);
    }
  };
  const storedShas = async (tx: SqlExecutor, userId: string, shas: readonly string[]) => {
    const found = new Set<string>();
    for (const part of chunks([...new Set(shas)], CHUNK)) {
      const { rows } = await tx.query(
        `SELECT sha256 FROM workspace_blobs WHERE user_id = ? AND sha256 IN (${placeholders(part.length)})`,
        [userId, ...part],
      );
      for (const row of parseRows(ShaRow, rows, "workspace blob")) found.add(row.sha256);
    }
    return found;
  };
  const one = async (where: string, params: string[]) => {
    const { rows } = await db.query(`SELECT ${COLUMNS} FROM workspace_checkpoints WHERE ${where}`, params);
    return rows[0] === undefined ? undefined : parseRow(CheckpointRow, rows[0], "workspace checkpoint");
  };

  return {
    async missingBlobs(userId, shas) {
      const found = await storedShas(db, userId, shas);
      return [...new Set(shas)].filter((sha) => !found.has(sha));
    },

    async putBlobs(userId, blobs) {
      const unique = [...new Map(blobs.map((b) => [b.sha256, b])).values()];
      let batch: WorkspaceBlob[] = [];
      let batchBytes = 0;
      const flush = async () => {
        if (batch.length === 0) return;
        await db.query(
          `INSERT INTO workspace_blobs (user_id, sha256, size, data) VALUES ${placeholders(batch.length, "(?, ?, ?, ?)")}
           ON CONFLICT (user_id, sha256) DO NOTHING`,
          batch.flatMap((b) => [userId, b.sha256, b.size, b.data]),
        );
        batch = [];
        batchBytes = 0;
      };
      for (const blob of unique) {
        if (
          batch.length >= CHUNK ||
          (batch.length > 0 && batchBytes + blob.data.byteLength > PUT_BATCH_BYTES)
        ) {
          await flush();
        }
        batch.push(blob);
        batchBytes += blob.data.byteLength;
      }
      await flush();
    },

    async getBlobs(userId, shas) {
      const out: WorkspaceBlob[] = [];
      for (const part of chunks([...new Set(shas)], CHUNK)) {
        const { rows } = await db.query(
          `SELECT sha256, size, data FROM workspace_blobs WHERE user_id = ? AND sha256 IN (${placeholders(part.length)})`,
          [userId, ...part],
        );
        out.push(...parseRows(BlobRow, rows, "workspace blob"));
      }
      return out;
    },

    async create(checkpoint) {
      const parsed = Manifest.safeParse(checkpoint.manifest);
      if (!parsed.success) {
        throw new KilnError(
          "invalid_request",
          `workspace checkpoint ${checkpoint.id} has an invalid manifest: ${z.prettifyError(parsed.error)}`,
        );
      }
      const manifest = parsed.data;
      const fileEntries = manifest.filter((e) => e.type === "file");
      const stored: StoredWorkspaceCheckpoint = {
        id: checkpoint.id,
        userId: checkpoint.userId,
        threadId: checkpoint.threadId,
        createdAt: checkpoint.createdAt,
        manifest,
        files: fileEntries.length,
        bytes: fileEntries.reduce((sum, e) => sum + e.size, 0),
      };
      const shas = [...new Set(fileEntries.map((e) => e.sha256))];
      return db.transaction(async (tx) => {
        await lockUser(tx, stored.userId);
        const { rows } = await tx.query("SELECT id FROM threads WHERE id = ? AND user_id = ?", [
          stored.threadId,
          stored.userId,
        ]);
        if (rows.length === 0) {
          throw new KilnError("not_found", `user ${stored.userId} has no thread ${stored.threadId}`);
        }
        const found = await storedShas(tx, stored.userId, shas);
        const missing = shas.filter((sha) => !found.has(sha));
        if (missing.length > 0) {
          throw new KilnError(
            "conflict",
            `workspace checkpoint ${stored.id} references ${missing.length} blob(s) that are not stored ` +
              "(never uploaded, or pruned meanwhile): upload them with putBlobs and create it again",
            { details: { missing: missing.slice(0, 10) } },
          );
        }
        try {
          await tx.query(
            `INSERT INTO workspace_checkpoints (id, user_id, thread_id, created_at, manifest, files, bytes)
             VALUES (?, ?, ?, ?, ?, ?, ?)`,
            [
              stored.id,
              stored.userId,
              stored.threadId,
              stored.createdAt,
              JSON.stringify(manifest),
              stored.files,
              stored.bytes,
            ],
          );
        } catch (error) {
          if (error instanceof KilnError && error.code === "conflict") {
            throw new KilnError("conflict", `a workspace checkpoint ${stored.id} already exists`, {
              cause: error,
            });
          }
          throw error;
        }
        for (const part of chunks(shas, CHUNK)) {
          await tx.query(
            `INSERT INTO workspace_checkpoint_blobs (checkpoint_id, user_id, sha256) VALUES ${placeholders(part.length, "(?, ?, ?)")}`,
            part.flatMap((sha) => [stored.id, stored.userId, sha]),
          );
        }
        return stored;
      });
    },

    latest: ({ userId, threadId }) =>
      one("user_id = ? AND thread_id = ? ORDER BY seq DESC LIMIT 1", [userId, threadId]),

    get: ({ userId, id }) => one("id = ? AND user_id = ?", [id, userId]),

    async prune({ userId, threadId, keep }) {
      if (!Number.isInteger(keep) || keep < 1) {
        throw new KilnError("invalid_request", `keep must be a whole number of at least 1, not ${keep}`);
      }
      return db.transaction(async (tx) => {
        await lockUser(tx, userId);
        const older = `SELECT id FROM workspace_checkpoints WHERE user_id = ? AND thread_id = ? AND seq < (
            SELECT seq FROM workspace_checkpoints WHERE user_id = ? AND thread_id = ?
            ORDER BY seq DESC LIMIT 1 OFFSET ?)`;
        const olderParams = [userId, threadId, userId, threadId, keep - 1];
        // Only the deleted checkpoints' blobs are candidates: a blob another save of this user has
        // just uploaded and not yet referenced must stay (deleting it would make that save start over).
        const { rows } = await tx.query(
          `SELECT DISTINCT sha256 FROM workspace_checkpoint_blobs WHERE user_id = ? AND checkpoint_id IN (${older})`,
          [userId, ...olderParams],
        );
        const candidates = parseRows(ShaRow, rows, "workspace checkpoint blob").map((r) => r.sha256);
        const checkpoints = await tx.query(
          `DELETE FROM workspace_checkpoints WHERE id IN (${older})`,
          olderParams,
        );
        let blobs = 0;
        for (const part of chunks(candidates, CHUNK)) {
          const deleted = await tx.query(
            `DELETE FROM workspace_blobs WHERE user_id = ? AND sha256 IN (${placeholders(part.length)})
               AND NOT EXISTS (SELECT 1 FROM workspace_checkpoint_blobs l
                               WHERE l.user_id = workspace_blobs.user_id AND l.sha256 = workspace_blobs.sha256)`,
            [userId, ...part],
          );
          blobs += deleted.rowCount;
        }
        return { checkpoints: checkpoints.rowCount, blobs };
      });
    },
  };
}
