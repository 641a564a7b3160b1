import { KilnError, ThreadInfo } from "@kiln/protocol";
import { z } from "zod";
import type { StoredThread, ThreadRepo, ThreadScope } from "../kiln-store.ts";
import { clampLimit, jsonText, optionalNumber, parseRow, parseRows } from "../sql/rows.ts";
import type { SqlExecutor, SqlValue } from "../sql/sql-database.ts";
import { decodeThreadCursor, encodeThreadCursor } from "./thread-cursor.ts";

const COLUMNS = "id, user_id, title, status, info, created_at, updated_at, archived_at, last_seq";

const ThreadRow = z
  .object({
    id: z.string(),
    user_id: z.string(),
    title: z.string(),
    status: z.string(),
    info: jsonText(ThreadInfo),
    created_at: z.number(),
    updated_at: z.number(),
    archived_at: optionalNumber,
    last_seq: z.number(),
  })
  .transform(
    (r): StoredThread => ({
      id: r.id,
      userId: r.user_id,
      info: r.info,
      title: r.title,
      status: r.status,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      archived: r.archived_at !== undefined,
      archivedAt: r.archived_at,
      lastSeq: r.last_seq,
    }),
  );

/** Parses a thread row (shared with repositories that join threads). */
export function parseThreadRow(row: unknown): StoredThread {
  return parseRow(ThreadRow, row, "thread");
}

/** Lower-cased (Unicode-aware) title, for case-insensitive search on both databases. */
const titleKey = (title: string) => title.normalize("NFKC").toLowerCase();

/** `%`, `_` and `\` match themselves in a LIKE pattern with `ESCAPE '\'`. */
const likeEscape = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/** Threads, scoped to their owner. */
export function createThreadRepo(db: SqlExecutor): ThreadRepo {
  const update = async (scope: ThreadScope, set: string, values: SqlValue[]) => {
    const { rows } = await db.query(
      `UPDATE threads SET ${set} WHERE id = ? AND user_id = ? RETURNING ${COLUMNS}`,
      [...values, scope.threadId, scope.userId],
    );
    return rows[0] === undefined ? undefined : parseThreadRow(rows[0]);
  };
  return {
    async create({ userId, info, title, status, now }) {
      try {
        const { rows } = await db.query(
          `INSERT INTO threads (id, user_id, title, title_key, status, info, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING ${COLUMNS}`,
          [info.id, userId, title, titleKey(title), status, JSON.stringify(info), info.createdAt, now],
        );
        return parseThreadRow(rows[0]);
      } catch (error) {
        if (error instanceof KilnError && error.code === "conflict") {
          throw new KilnError("conflict", `a thread ${info.id} already exists`, { cause: error });
        }
        throw error;
      }
    },
    async get({ userId, threadId }) {
      const { rows } = await db.query(`SELECT ${COLUMNS} FROM threads WHERE id = ? AND user_id = ?`, [
        threadId,
        userId,
      ]);
      return rows[0] === undefined ? undefined : parseThreadRow(rows[0]);
    },
    async list(userId, query = {}) {
      const limit = clampLimit(query.limit, 50, 200);
      const where = ["user_id = ?"];
      const params: SqlValue[] = [userId];
      if (query.archived !== undefined) where.push(`archived_at IS ${query.archived ? "NOT NULL" : "NULL"}`);
      if (query.status !== undefined) {
        where.push("status = ?");
        params.push(query.status);
      }
      if (query.search !== undefined && query.search !== "") {
        where.push("title_key LIKE ? ESCAPE '\\'");
        params.push(`%${likeEscape(titleKey(query.search))}%`);
      }
      if (query.cursor !== undefined) {
        const after = decodeThreadCursor(query.cursor);
        where.push("(updated_at < ? OR (updated_at = ? AND id < ?))");
        params.push(after.updatedAt, after.updatedAt, after.id);
      }
      const { rows } = await db.query(
        `SELECT ${COLUMNS} FROM threads WHERE ${where.join(" AND ")} ORDER BY updated_at DESC, id DESC LIMIT ?`,
        [...params, limit + 1],
      );
      const threads = parseRows(ThreadRow, rows, "thread");
      if (threads.length <= limit) return { threads };
      threads.length = limit;
      const last = threads[limit - 1]!;
      return { threads, nextCursor: encodeThreadCursor({ updatedAt: last.updatedAt, id: last.id }) };
    },
    rename: (scope, title, now) =>
      update(scope, "title = ?, title_key = ?, updated_at = ?", [title, titleKey(title), now]),
    setArchived: (scope, archived, now) =>
      archived
        ? update(scope, "archived_at = COALESCE(archived_at, ?), updated_at = ?", [now, now])
        : update(scope, "archived_at = NULL, updated_at = ?", [now]),
    setStatus: (scope, status, now) => update(scope, "status = ?, updated_at = ?", [status, now]),
    async setInfo(scope, info, now) {
      if (info.id !== scope.threadId) {
        throw new KilnError("invalid_request", `the thread's info has id ${info.id}, not ${scope.threadId}`);
      }
      return update(scope, "info = ?, updated_at = ?", [JSON.stringify(info), now]);
    },
  };
}
