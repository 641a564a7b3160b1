// Approvals, usage, health and WebSocket messages of the native API.

import { z } from "zod";
import { ErrorInfo } from "../errors.ts";
import { EventEnvelope } from "../events.ts";
import { ApprovalItem } from "../items.ts";
import { Usage } from "../usage.ts";

/** A decision a person can give (`pending` is not one). */
export const ApprovalDecisionInput = z.enum([
  "approved",
  "approved_for_session",
  "approved_prefix",
  "denied",
  "aborted",
]);
export type ApprovalDecisionInput = z.infer<typeof ApprovalDecisionInput>;

/** `POST /approvals/{id}`. */
export const RespondApprovalRequest = z.strictObject({ decision: ApprovalDecisionInput });

/** An approval id, e.g. `apr_01J…`. */
export const ApprovalId = z
  .string()
  .regex(/^apr_[0-9A-HJKMNP-TV-Z]{26}$/, "expected an approval id like apr_01J…");

/** An approval waiting for a decision. */
export const PendingApprovalResource = z.object({
  id: z.string(),
  threadId: z.string(),
  turnId: z.string().optional(),
  /** Unix ms: when it was asked (in this process). */
  askedAt: z.number(),
  approval: ApprovalItem,
});
export type PendingApprovalResource = z.infer<typeof PendingApprovalResource>;

/** `GET /approvals`. */
export const PendingApprovalList = z.object({ approvals: z.array(PendingApprovalResource) });

/** `POST /approvals/{id}` response. */
export const ApprovalResponded = z.object({
  id: z.string(),
  threadId: z.string(),
  decision: ApprovalDecisionInput,
});
export type ApprovalResponded = z.infer<typeof ApprovalResponded>;

/** Usage summed over some calls. */
export const UsageTotals = z.object({ calls: z.number().int(), usage: Usage, costUsd: z.number() });

/** `GET /usage?from&to`. */
export const UsageReport = z.object({
  days: z.array(UsageTotals.extend({ day: z.string() })),
  total: UsageTotals,
});
export type UsageReport = z.infer<typeof UsageReport>;

/** `GET /threads/{id}/usage`. */
export const ThreadUsageReport = z.object({
  total: UsageTotals,
  turns: z.array(UsageTotals.extend({ turnId: z.string() })),
});
export type ThreadUsageReport = z.infer<typeof ThreadUsageReport>;

/** `YYYY-MM-DD`. */
export const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "expected a day like 2025-01-31");

/** `GET /usage` query. */
export const UsageQuery = z.strictObject({ from: Day.optional(), to: Day.optional() });

/** What a WebSocket client sends. */
export const WsClientMessage = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("subscribe"),
    threadId: z.string(),
    /** Send events with seq > after (default 0: all of them). */
    after: z.number().int().nonnegative().optional(),
  }),
  z.strictObject({ type: z.literal("unsubscribe"), threadId: z.string() }),
]);
export type WsClientMessage = z.infer<typeof WsClientMessage>;

/** What the server sends on the WebSocket: envelopes, and these control messages. */
export const WsServerMessage = z.union([
  EventEnvelope,
  z.object({ type: z.literal("subscribed"), threadId: z.string(), after: z.number().int() }),
  /** The client was too slow: subscribe again with this `after`. */
  z.object({ type: z.literal("resync"), threadId: z.string(), after: z.number().int() }),
  z.object({ type: z.literal("error"), threadId: z.string().optional(), error: ErrorInfo }),
]);
export type WsServerMessage = z.infer<typeof WsServerMessage>;

/** `GET /healthz`, `GET /readyz`. */
export const HealthStatus = z.object({ status: z.enum(["ok", "unavailable"]) });

/** Every error response. */
export const ErrorResponse = z.object({ error: ErrorInfo });
