import { KilnError } from "@kiln/protocol";
import { z } from "zod";
import type { AuditEntry, AuditRepo } from "../kiln-store.ts";
import { clampLimit, jsonText, optionalString, parseRow, parseRows } from "../sql/rows.ts";
import type { SqlExecutor, SqlValue } from "../sql/sql-database.ts";

const COLUMNS = "id, user_id, actor, action, target, ip, at, details";

const AuditRow = z
  .object({
    id: z.number().int(),
    user_id: optionalString,
    actor: z.string(),
    action: z.string(),
    target: optionalString,
    ip: optionalString,
    at: z.number(),
    details: jsonText(z.record(z.string(), z.unknown())).nullable(),
  })
  .transform(
    (r): AuditEntry => ({
      id: r.id,
      userId: r.user_id,
      actor: r.actor,
      action: r.action,
      target: r.target,
      ip: r.ip,
      at: r.at,
      ...(r.details === null ? {} : { details: r.details }),
    }),
  );

/** The audit log. */
export function createAuditRepo(db: SqlExecutor): AuditRepo {
  return {
    async append({ userId, actor, action, target, ip, at, details }) {
      const { rows } = await db.query(
        `INSERT INTO audit_log (user_id, actor, action, target, ip, at, details)
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING ${COLUMNS}`,
        [
          userId ?? null,
          actor,
          action,
          target ?? null,
          ip ?? null,
          at,
          details === undefined ? null : JSON.stringify(details),
        ],
      );
      if (rows[0] === undefined) throw new KilnError("internal", "the audit entry was not written");
      return parseRow(AuditRow, rows[0], "audit entry");
    },
    async list(query = {}) {
      const where: string[] = [];
      const params: SqlValue[] = [];
      const add = (clause: string, value: SqlValue) => {
        where.push(clause);
        params.push(value);
      };
      if (query.userId !== undefined) add("user_id = ?", query.userId);
      if (query.from !== undefined) add("at >= ?", query.from);
      if (query.to !== undefined) add("at <= ?", query.to);
      if (query.before !== undefined) add("id < ?", query.before);
      const { rows } = await db.query(
        `SELECT ${COLUMNS} FROM audit_log ${where.length === 0 ? "" : `WHERE ${where.join(" AND ")}`}
         ORDER BY id DESC LIMIT ?`,
        [...params, clampLimit(query.limit, 100, 1000)],
      );
      return parseRows(AuditRow, rows, "audit entry");
    },
  };
}
