// The audit log: who did what, from where. Route handlers call `audit(c, …)` after requireUser;
// sign-in code, which runs before anyone is known, appends entries directly.
import { KilnError } from "@kiln/protocol";
import type { KilnStore, NewAuditEntry } from "@kiln/store";
import type { Context } from "hono";

/**
 * Records that the caller of `c` did `action` (e.g. `approval.respond`) to `target` (an id).
 * Needs `auth.requireUser` to have run on the request. `details` must hold no secrets.
 */
export async function audit(
  c: Context,
  action: string,
  target?: string,
  details?: Record<string, unknown>,
): Promise<void> {
  const ctx = c.get("kilnAuth");
  if (ctx === undefined) {
    throw new KilnError("internal", `audit("${action}") ran on a route without auth.requireUser`);
  }
  await appendAudit(ctx.store, {
    userId: ctx.user.id,
    actor: ctx.user.username,
    action,
    ...(target === undefined ? {} : { target }),
    ip: ctx.ip,
    at: ctx.now(),
    ...(details === undefined ? {} : { details }),
  });
}

/** Appends one entry (for events outside an authenticated request: sign-in, bootstrap). */
export async function appendAudit(store: KilnStore, entry: NewAuditEntry): Promise<void> {
  await store.audit.append(entry);
}
