// A task's attempts, user turns and runs (assistant turns). The task runner's reads and writes: not
// scoped (the server checked the task's owner before it got here).
import { KilnError } from "@kiln/protocol";
import { z } from "zod";
import type { TaskRepo } from "../kiln-store.ts";
import { parseRow, parseRows } from "../sql/rows.ts";
import type { SqlExecutor, SqlValue } from "../sql/sql-database.ts";
import {
  ASSISTANT_TURN_COLUMNS,
  AssistantTurnRow,
  ATTEMPT_COLUMNS,
  AttemptRow,
  type RunResult,
  USER_TURN_COLUMNS,
  UserTurnRow,
} from "./task-rows.ts";

/** The part of the task repository about attempts, user turns and runs. */
export type TaskPartsRepo = Pick<
  TaskRepo,
  "attempts" | "updateAttempt" | "userTurns" | "addUserTurn" | "assistantTurns" | "putAssistantTurn"
>;

/** Attempts, user turns and runs of tasks. */
export function createTaskPartsRepo(db: SqlExecutor): TaskPartsRepo {
  return {
    async attempts(taskId) {
      const { rows } = await db.query(
        `SELECT ${ATTEMPT_COLUMNS} FROM attempts WHERE task_id = ? ORDER BY attempt_index`,
        [taskId],
      );
      return parseRows(AttemptRow, rows, "attempt");
    },
    async updateAttempt(attemptId, changes, now) {
      const set = ["updated_at = ?"];
      const values: SqlValue[] = [now];
      if (changes.status !== undefined) {
        set.push("status = ?");
        values.push(changes.status);
      }
      if (changes.threadId !== undefined) {
        set.push("thread_id = ?");
        values.push(changes.threadId);
      }
      if (changes.sandboxId !== undefined) {
        set.push("sandbox_id = ?");
        values.push(changes.sandboxId);
      }
      if (changes.published !== undefined) {
        set.push("published = ?");
        values.push(JSON.stringify(changes.published));
      }
      const { rowCount } = await db.query(`UPDATE attempts SET ${set.join(", ")} WHERE id = ?`, [
        ...values,
        attemptId,
      ]);
      return rowCount > 0;
    },
    async userTurns(taskId) {
      const { rows } = await db.query(
        `SELECT ${USER_TURN_COLUMNS} FROM user_turns WHERE task_id = ? ORDER BY turn_index`,
        [taskId],
      );
      return parseRows(UserTurnRow, rows, "user turn");
    },
    addUserTurn(turn, now) {
      return db.transaction(async (tx) => {
        // attempt_ids is a JSON list, which no foreign key can check: check it here.
        const wanted = [...new Set(turn.attemptIds)];
        if (wanted.length > 0) {
          const { rows } = await tx.query(
            `SELECT COUNT(*) AS n FROM attempts WHERE task_id = ? AND id IN (${wanted.map(() => "?").join(", ")})`,
            [turn.taskId, ...wanted],
          );
          if (parseRow(z.object({ n: z.coerce.number() }), rows[0], "attempt count").n !== wanted.length) {
            throw new KilnError(
              "invalid_request",
              `user turn ${turn.id} names attempts (${wanted.join(", ")}) that are not all task ${turn.taskId}'s`,
            );
          }
        }
        try {
          const { rows } = await tx.query(
            `INSERT INTO user_turns (id, task_id, turn_index, input, attempt_ids, created_at)
             VALUES (?, ?, ?, ?, ?, ?) RETURNING ${USER_TURN_COLUMNS}`,
            [
              turn.id,
              turn.taskId,
              turn.index,
              JSON.stringify(turn.input),
              JSON.stringify(turn.attemptIds),
              now,
            ],
          );
          return parseRow(UserTurnRow, rows[0], "user turn");
        } catch (error) {
          if (error instanceof KilnError && error.code === "conflict") {
            throw new KilnError(
              "conflict",
              `task ${turn.taskId} already has a user turn ${turn.index} (or the id ${turn.id} is taken)`,
              { cause: error },
            );
          }
          if (error instanceof KilnError && error.code === "not_found") {
            throw new KilnError("not_found", `no task ${turn.taskId} to add a user turn to`, {
              cause: error,
            });
          }
          throw error;
        }
      });
    },
    async assistantTurns(taskId) {
      const columns = ASSISTANT_TURN_COLUMNS.split(", ")
        .map((c) => `r.${c}`)
        .join(", ");
      const { rows } = await db.query(
        `SELECT ${columns} FROM assistant_turns r JOIN attempts a ON a.id = r.attempt_id
         WHERE r.task_id = ? ORDER BY r.created_at, a.attempt_index, r.id`,
        [taskId],
      );
      return parseRows(AssistantTurnRow, rows, "assistant turn");
    },
    async putAssistantTurn(turn) {
      const result: RunResult = {
        message: turn.message,
        diffStats: turn.diffStats,
        files: turn.files,
        pr: turn.pr,
        usage: turn.usage,
        error: turn.error,
      };
      let rowCount: number;
      try {
        // The WHERE keeps an id of another task's run from being taken over: nothing is written.
        ({ rowCount } = await db.query(
          `INSERT INTO assistant_turns (id, task_id, attempt_id, user_turn_id, status, result, diff,
             created_at, updated_at, finished_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET attempt_id = excluded.attempt_id,
             user_turn_id = excluded.user_turn_id, status = excluded.status, result = excluded.result,
             diff = excluded.diff, created_at = excluded.created_at, updated_at = excluded.updated_at,
             finished_at = excluded.finished_at
           WHERE assistant_turns.task_id = excluded.task_id`,
          [
            turn.id,
            turn.taskId,
            turn.attemptId,
            turn.userTurnId,
            turn.status,
            JSON.stringify(result),
            turn.diff ?? null,
            turn.createdAt,
            turn.updatedAt,
            turn.finishedAt ?? null,
          ],
        ));
      } catch (error) {
        if (error instanceof KilnError && error.code === "not_found") {
          throw new KilnError(
            "not_found",
            `task ${turn.taskId} has no attempt ${turn.attemptId} or no user turn ${turn.userTurnId}`,
            { cause: error },
          );
        }
        throw error;
      }
      if (rowCount === 0) {
        throw new KilnError("conflict", `run ${turn.id} belongs to another task than ${turn.taskId}`);
      }
    },
  };
}
