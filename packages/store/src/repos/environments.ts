import { ForgeKind, KilnError, NetworkPolicy } from "@kiln/protocol";
import { z } from "zod";
import type { EnvironmentFields, EnvironmentRepo, StoredEnvironment } from "../kiln-store.ts";
import { jsonText, optionalNumber, optionalString, parseRow, parseRows } from "../sql/rows.ts";
import type { SqlExecutor, SqlValue } from "../sql/sql-database.ts";
import { foldCase } from "./text-key.ts";

/** The columns of an environment, with its task count (tasks are counted through their index). */
const SELECT = `SELECT e.id, e.user_id, e.name, e.repository, e.branch, e.setup_script, e.env, e.network,
    e.template, e.setup_timeout_ms, e.pinned_at, e.forge, e.created_at, e.updated_at,
    (SELECT COUNT(*) FROM tasks t WHERE t.environment_id = e.id AND t.user_id = e.user_id) AS task_count
  FROM environments e`;

const Forge = z.object({ kind: ForgeKind, apiUrl: z.string(), repo: z.string() });

const EnvironmentRow = z
  .object({
    id: z.string(),
    user_id: z.string(),
    name: z.string(),
    repository: z.string(),
    branch: z.string(),
    setup_script: z.string(),
    env: jsonText(z.record(z.string(), z.string())),
    network: NetworkPolicy,
    template: optionalString,
    setup_timeout_ms: z.number(),
    pinned_at: optionalNumber,
    forge: jsonText(Forge).nullable(),
    created_at: z.number(),
    updated_at: z.number(),
    task_count: z.coerce.number().int(),
  })
  .transform(
    (r): StoredEnvironment => ({
      id: r.id,
      userId: r.user_id,
      name: r.name,
      repository: r.repository,
      branch: r.branch,
      setupScript: r.setup_script,
      env: r.env,
      network: r.network,
      ...(r.template === undefined ? {} : { template: r.template }),
      setupTimeoutMs: r.setup_timeout_ms,
      pinned: r.pinned_at !== undefined,
      ...(r.forge === null ? {} : { forge: r.forge }),
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      taskCount: r.task_count,
    }),
  );

type Changes = Parameters<EnvironmentRepo["update"]>[2];

/** The SET clauses of an update: only the fields given. */
function assignments(changes: Changes, now: number): { set: string[]; values: SqlValue[] } {
  const set: string[] = [];
  const values: SqlValue[] = [];
  const assign = (column: string, value: SqlValue) => {
    set.push(`${column} = ?`);
    values.push(value);
  };
  if (changes.name !== undefined) {
    assign("name", changes.name);
    assign("name_key", foldCase(changes.name));
  }
  if (changes.repository !== undefined) assign("repository", changes.repository);
  if (changes.branch !== undefined) assign("branch", changes.branch);
  if (changes.setupScript !== undefined) assign("setup_script", changes.setupScript);
  if (changes.env !== undefined) assign("env", JSON.stringify(changes.env));
  if (changes.network !== undefined) assign("network", changes.network);
  if (changes.template !== undefined) assign("template", changes.template);
  if (changes.setupTimeoutMs !== undefined) assign("setup_timeout_ms", changes.setupTimeoutMs);
  if (changes.pinned === true) {
    set.push("pinned_at = COALESCE(pinned_at, ?)");
    values.push(now);
  }
  if (changes.pinned === false) set.push("pinned_at = NULL");
  if (changes.forge !== undefined)
    assign("forge", changes.forge === null ? null : JSON.stringify(changes.forge));
  assign("updated_at", now);
  return { set, values };
}

const nameTaken = (name: string, cause?: unknown) =>
  new KilnError("conflict", `you already have an environment named "${name}": choose another name`, {
    cause,
    details: { field: "name" },
  });

/** Environments, scoped to their owner. Names are unique per user ignoring case. */
export function createEnvironmentRepo(db: SqlExecutor): EnvironmentRepo {
  const get = async (userId: string, id: string) => {
    const { rows } = await db.query(`${SELECT} WHERE e.id = ? AND e.user_id = ?`, [id, userId]);
    return rows[0] === undefined ? undefined : parseRow(EnvironmentRow, rows[0], "environment");
  };
  return {
    async create(env) {
      const fields: EnvironmentFields = env;
      // DO NOTHING rather than catching the error: inside a PostgreSQL transaction a failed statement
      // would abort it, and we still want to ask which key was taken.
      const { rowCount } = await db.query(
        `INSERT INTO environments (id, user_id, name, name_key, repository, branch, setup_script, env,
           network, template, setup_timeout_ms, pinned_at, forge, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
        [
          env.id,
          env.userId,
          fields.name,
          foldCase(fields.name),
          fields.repository,
          fields.branch,
          fields.setupScript,
          JSON.stringify(fields.env),
          fields.network,
          fields.template ?? null,
          fields.setupTimeoutMs,
          fields.pinned ? env.now : null,
          fields.forge === undefined ? null : JSON.stringify(fields.forge),
          env.now,
          env.now,
        ],
      );
      if (rowCount === 0) {
        const { rows } = await db.query(
          "SELECT 1 AS one FROM environments WHERE user_id = ? AND name_key = ?",
          [env.userId, foldCase(fields.name)],
        );
        if (rows.length > 0) throw nameTaken(fields.name);
        throw new KilnError("conflict", `an environment ${env.id} already exists`);
      }
      const created = await get(env.userId, env.id);
      if (created === undefined)
        throw new KilnError("internal", `environment ${env.id} vanished after insert`);
      return created;
    },
    get,
    async list(userId) {
      // `pinned_at IS NULL` is false (0) for pinned ones on both databases: they come first.
      const { rows } = await db.query(
        `${SELECT} WHERE e.user_id = ? ORDER BY e.pinned_at IS NULL, e.name_key, e.id`,
        [userId],
      );
      return parseRows(EnvironmentRow, rows, "environment");
    },
    async update(userId, id, changes, now) {
      const { set, values } = assignments(changes, now);
      try {
        const { rowCount } = await db.query(
          `UPDATE environments SET ${set.join(", ")} WHERE id = ? AND user_id = ?`,
          [...values, id, userId],
        );
        if (rowCount === 0) return undefined;
      } catch (error) {
        if (error instanceof KilnError && error.code === "conflict" && changes.name !== undefined) {
          throw nameTaken(changes.name, error);
        }
        throw error;
      }
      return get(userId, id);
    },
    delete(userId, id) {
      return db.transaction(async (tx) => {
        // PostgreSQL: the row lock makes a concurrent task insert (whose foreign-key check wants a
        // share lock on this row) wait for our verdict; SQLite's write transaction is exclusive.
        const lock = tx.dialect === "postgres" ? " FOR UPDATE" : "";
        const found = await tx.query(`SELECT name FROM environments WHERE id = ? AND user_id = ?${lock}`, [
          id,
          userId,
        ]);
        if (found.rows[0] === undefined) return false;
        const { name } = parseRow(z.object({ name: z.string() }), found.rows[0], "environment");
        const { rows } = await tx.query(
          "SELECT COUNT(*) AS n FROM tasks WHERE environment_id = ? AND user_id = ?",
          [id, userId],
        );
        const n = parseRow(z.object({ n: z.coerce.number() }), rows[0], "task count").n;
        if (n > 0) {
          throw new KilnError(
            "conflict",
            `the environment "${name}" is used by ${n} task${n === 1 ? "" : "s"}: delete its tasks first`,
            { details: { taskCount: n } },
          );
        }
        const { rowCount } = await tx.query("DELETE FROM environments WHERE id = ? AND user_id = ?", [
          id,
          userId,
        ]);
        return rowCount > 0;
      });
    },
  };
}
