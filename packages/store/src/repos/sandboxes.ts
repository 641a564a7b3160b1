// Sandboxes and their capability tokens. A sandbox's `started_at` is when it last went from stopped
// to running (absent while stopped); `last_active_at` only moves forward, whatever order concurrent
// requests touch it in.
import { KilnError, NetworkPolicy } from "@kiln/protocol";
import { z } from "zod";
import type { SandboxRepo, SandboxToken, StoredSandbox } from "../kiln-store.ts";
import { optionalNumber, optionalString, parseRow, parseRows } from "../sql/rows.ts";
import type { SqlExecutor } from "../sql/sql-database.ts";

const COLUMNS =
  "id, user_id, task_id, attempt_id, thread_id, workspace, network, state, created_at, started_at, last_active_at";

const SandboxRow = z
  .object({
    id: z.string(),
    user_id: z.string(),
    task_id: optionalString,
    attempt_id: optionalString,
    thread_id: optionalString,
    workspace: z.string(),
    network: NetworkPolicy,
    state: z.string(),
    created_at: z.number(),
    started_at: optionalNumber,
    last_active_at: z.number(),
  })
  .transform(
    (r): StoredSandbox => ({
      id: r.id,
      userId: r.user_id,
      ...(r.task_id === undefined ? {} : { taskId: r.task_id }),
      ...(r.attempt_id === undefined ? {} : { attemptId: r.attempt_id }),
      ...(r.thread_id === undefined ? {} : { threadId: r.thread_id }),
      workspace: r.workspace,
      network: r.network,
      state: r.state,
      createdAt: r.created_at,
      ...(r.started_at === undefined ? {} : { startedAt: r.started_at }),
      lastActiveAt: r.last_active_at,
    }),
  );

const TokenRow = z
  .object({
    token_hash: z.string(),
    sandbox_id: z.string(),
    user_id: z.string(),
    created_at: z.number(),
    expires_at: z.number(),
  })
  .transform(
    (r): SandboxToken => ({
      tokenHash: r.token_hash,
      sandboxId: r.sandbox_id,
      userId: r.user_id,
      createdAt: r.created_at,
      expiresAt: r.expires_at,
    }),
  );

const parseSandbox = (row: unknown) => parseRow(SandboxRow, row, "sandbox");

/** Sandboxes and their capability tokens. */
export function createSandboxRepo(db: SqlExecutor): SandboxRepo {
  const one = async (where: string, params: string[]) => {
    const { rows } = await db.query(`SELECT ${COLUMNS} FROM sandboxes WHERE ${where}`, params);
    return rows[0] === undefined ? undefined : parseSandbox(rows[0]);
  };
  const greatest = db.dialect === "postgres" ? "GREATEST" : "MAX";
  return {
    async create(sandbox) {
      try {
        const { rows } = await db.query(
          `INSERT INTO sandboxes (id, user_id, task_id, attempt_id, thread_id, workspace, network, state,
             created_at, started_at, last_active_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING ${COLUMNS}`,
          [
            sandbox.id,
            sandbox.userId,
            sandbox.taskId ?? null,
            sandbox.attemptId ?? null,
            sandbox.threadId ?? null,
            sandbox.workspace,
            sandbox.network,
            sandbox.state,
            sandbox.createdAt,
            sandbox.state === "running" ? sandbox.now : null,
            sandbox.now,
          ],
        );
        return parseSandbox(rows[0]);
      } catch (error) {
        if (error instanceof KilnError && error.code === "conflict") {
          throw new KilnError("conflict", `a sandbox ${sandbox.id} already exists`, { cause: error });
        }
        throw error;
      }
    },
    get: (userId, id) => one("id = ? AND user_id = ?", [id, userId]),
    getUnscoped: (id) => one("id = ?", [id]),
    async list(userId) {
      const { rows } = await db.query(
        `SELECT ${COLUMNS} FROM sandboxes WHERE user_id = ? ORDER BY created_at DESC, id DESC`,
        [userId],
      );
      return parseRows(SandboxRow, rows, "sandbox");
    },
    async setState(id, state, now) {
      // In SET, `state` and `started_at` are the values before this update.
      const { rowCount } = await db.query(
        `UPDATE sandboxes SET
           started_at = CASE WHEN ? <> 'running' THEN NULL
                             WHEN state = 'running' THEN COALESCE(started_at, ?) ELSE ? END,
           last_active_at = CASE WHEN ? = 'running' THEN ${greatest}(last_active_at, ?) ELSE last_active_at END,
           state = ?
         WHERE id = ?`,
        [state, now, now, state, now, state, id],
      );
      return rowCount > 0;
    },
    async touch(id, now) {
      await db.query(`UPDATE sandboxes SET last_active_at = ${greatest}(last_active_at, ?) WHERE id = ?`, [
        now,
        id,
      ]);
    },
    async listIdle(before) {
      const { rows } = await db.query(
        `SELECT ${COLUMNS} FROM sandboxes WHERE state = 'running' AND last_active_at < ? ORDER BY last_active_at, id`,
        [before],
      );
      return parseRows(SandboxRow, rows, "sandbox");
    },
    async createToken(token) {
      try {
        await db.query(
          "INSERT INTO sandbox_tokens (token_hash, sandbox_id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
          [token.tokenHash, token.sandboxId, token.userId, token.createdAt, token.expiresAt],
        );
      } catch (error) {
        if (error instanceof KilnError && error.code === "conflict") {
          throw new KilnError("conflict", "a sandbox token with this hash already exists", { cause: error });
        }
        if (error instanceof KilnError && error.code === "not_found") {
          throw new KilnError("not_found", `user ${token.userId} has no sandbox ${token.sandboxId}`, {
            cause: error,
          });
        }
        throw error;
      }
    },
    async findToken(tokenHash, now) {
      const { rows } = await db.query(
        "SELECT token_hash, sandbox_id, user_id, created_at, expires_at FROM sandbox_tokens WHERE token_hash = ? AND expires_at > ?",
        [tokenHash, now],
      );
      return rows[0] === undefined ? undefined : parseRow(TokenRow, rows[0], "sandbox token");
    },
    async deleteExpiredTokens(now) {
      const { rowCount } = await db.query("DELETE FROM sandbox_tokens WHERE expires_at <= ?", [now]);
      return rowCount;
    },
  };
}
