// Tasks. A task row carries what a listing shows and filters on (title and first prompt, with
// case-folded copies to search); its attempts, user turns, runs and events are rows of their own
// (task-parts.ts, task-events.ts), all deleted with it.
import { KilnError } from "@kiln/protocol";
import type { StoredTask, TaskRepo } from "../kiln-store.ts";
import { clampLimit, parseRow, parseRows } from "../sql/rows.ts";
import type { SqlExecutor, SqlValue } from "../sql/sql-database.ts";
import { decodeTaskCursor, encodeTaskCursor } from "./task-cursor.ts";
import { createTaskEventRepo } from "./task-events.ts";
import { createTaskPartsRepo } from "./task-parts.ts";
import { TASK_COLUMNS, TaskRow } from "./task-rows.ts";
import { containsPattern, foldCase } from "./text-key.ts";

const parseTask = (row: unknown): StoredTask => parseRow(TaskRow, row, "task");

/** Rethrows a failed insert of a task's rows as an error that names what was wrong. */
function explainInsertError(error: unknown, what: string, missing: string): never {
  if (error instanceof KilnError && error.code === "conflict") {
    throw new KilnError("conflict", `${what} is already taken`, { cause: error });
  }
  if (error instanceof KilnError && error.code === "not_found") {
    throw new KilnError("not_found", missing, { cause: error });
  }
  throw error;
}

/** Tasks with their attempts, user turns, runs and event log. */
export function createTaskRepo(db: SqlExecutor): TaskRepo {
  const one = async (where: string, params: SqlValue[]) => {
    const { rows } = await db.query(`SELECT ${TASK_COLUMNS} FROM tasks WHERE ${where}`, params);
    return rows[0] === undefined ? undefined : parseTask(rows[0]);
  };
  const updateScoped = async (userId: string, id: string, set: string, values: SqlValue[]) => {
    const { rows } = await db.query(
      `UPDATE tasks SET ${set} WHERE id = ? AND user_id = ? RETURNING ${TASK_COLUMNS}`,
      [...values, id, userId],
    );
    return rows[0] === undefined ? undefined : parseTask(rows[0]);
  };
  return {
    async create({ task, attemptIds, userTurn, now }) {
      if (attemptIds.length !== task.bestOfN || new Set(attemptIds).size !== attemptIds.length) {
        throw new KilnError(
          "invalid_request",
          `task ${task.id} has bestOfN ${task.bestOfN} but ${attemptIds.length} attempt ids (distinct ones expected)`,
        );
      }
      return db.transaction(async (tx) => {
        try {
          await tx.query(
            `INSERT INTO tasks (id, user_id, environment_id, title, title_key, branch, best_of_n, status,
               base_commit, model, approval_policy, pre_apply_patch, prompt, prompt_key, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
            [
              task.id,
              task.userId,
              task.environmentId,
              task.title,
              foldCase(task.title),
              task.branch,
              task.bestOfN,
              task.status,
              task.baseCommit ?? null,
              task.model ?? null,
              task.approvalPolicy ?? null,
              task.preApplyPatch ?? null,
              task.prompt,
              foldCase(task.prompt),
              now,
              now,
            ],
          );
        } catch (error) {
          explainInsertError(
            error,
            `the task id ${task.id}`,
            `no environment ${task.environmentId} of user ${task.userId} to run the task in`,
          );
        }
        try {
          await tx.query(
            `INSERT INTO attempts (id, task_id, attempt_index, status, created_at, updated_at)
             VALUES ${attemptIds.map(() => "(?, ?, ?, 'queued', ?, ?)").join(", ")}`,
            attemptIds.flatMap((attemptId, index) => [attemptId, task.id, index, now, now]),
          );
        } catch (error) {
          explainInsertError(error, `one of the attempt ids ${attemptIds.join(", ")}`, `no task ${task.id}`);
        }
        try {
          await tx.query(
            `INSERT INTO user_turns (id, task_id, turn_index, input, attempt_ids, created_at)
             VALUES (?, ?, ?, ?, ?, ?)`,
            [
              userTurn.id,
              task.id,
              userTurn.index,
              JSON.stringify(userTurn.input),
              JSON.stringify(attemptIds),
              now,
            ],
          );
        } catch (error) {
          explainInsertError(error, `the user turn id ${userTurn.id}`, `no task ${task.id}`);
        }
        const { rows } = await tx.query(`SELECT ${TASK_COLUMNS} FROM tasks WHERE id = ?`, [task.id]);
        return parseTask(rows[0]);
      });
    },
    get: (userId, id) => one("id = ? AND user_id = ?", [id, userId]),
    getUnscoped: (id) => one("id = ?", [id]),
    async list(userId, query = {}) {
      const limit = clampLimit(query.limit, 50, 200);
      const where = ["user_id = ?"];
      const params: SqlValue[] = [userId];
      if (query.archived !== undefined) where.push(`archived_at IS ${query.archived ? "NOT NULL" : "NULL"}`);
      if (query.status !== undefined) {
        where.push("status = ?");
        params.push(query.status);
      }
      if (query.environmentId !== undefined) {
        where.push("environment_id = ?");
        params.push(query.environmentId);
      }
      if (query.search !== undefined && query.search !== "") {
        const pattern = containsPattern(query.search);
        where.push("(title_key LIKE ? ESCAPE '\\' OR prompt_key LIKE ? ESCAPE '\\')");
        params.push(pattern, pattern);
      }
      if (query.cursor !== undefined) {
        const after = decodeTaskCursor(query.cursor);
        where.push("(created_at < ? OR (created_at = ? AND id < ?))");
        params.push(after.createdAt, after.createdAt, after.id);
      }
      const { rows } = await db.query(
        `SELECT ${TASK_COLUMNS} FROM tasks WHERE ${where.join(" AND ")}
         ORDER BY created_at DESC, id DESC LIMIT ?`,
        [...params, limit + 1],
      );
      const tasks = parseRows(TaskRow, rows, "task");
      if (tasks.length <= limit) return { tasks };
      tasks.length = limit;
      const last = tasks[limit - 1]!;
      return { tasks, nextCursor: encodeTaskCursor({ createdAt: last.createdAt, id: last.id }) };
    },
    async listByStatus(statuses) {
      if (statuses.length === 0) return [];
      const { rows } = await db.query(
        `SELECT ${TASK_COLUMNS} FROM tasks WHERE status IN (${statuses.map(() => "?").join(", ")})
         ORDER BY created_at, id`,
        [...statuses],
      );
      return parseRows(TaskRow, rows, "task");
    },
    async update(id, changes, now) {
      const set = ["updated_at = ?"];
      const values: SqlValue[] = [now];
      if (changes.status !== undefined) {
        set.push("status = ?");
        values.push(changes.status);
      }
      if (changes.baseCommit !== undefined) {
        set.push("base_commit = ?");
        values.push(changes.baseCommit);
      }
      if (changes.error !== undefined) {
        set.push("error = ?");
        values.push(changes.error === null ? null : JSON.stringify(changes.error));
      }
      if (changes.title !== undefined) {
        set.push("title = ?", "title_key = ?");
        values.push(changes.title, foldCase(changes.title));
      }
      const { rowCount } = await db.query(`UPDATE tasks SET ${set.join(", ")} WHERE id = ?`, [...values, id]);
      return rowCount > 0;
    },
    setArchived: (userId, id, archived, now) =>
      archived
        ? updateScoped(userId, id, "archived_at = COALESCE(archived_at, ?), updated_at = ?", [now, now])
        : updateScoped(userId, id, "archived_at = NULL, updated_at = ?", [now]),
    rename: (userId, id, title, now) =>
      updateScoped(userId, id, "title = ?, title_key = ?, updated_at = ?", [title, foldCase(title), now]),
    ...createTaskPartsRepo(db),
    ...createTaskEventRepo(db),
  };
}
