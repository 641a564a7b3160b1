// What an API node calls: submit a turn to a thread's virtual object through Restate's ingress (the
// turn id is the idempotency key, so a retried submit does not run the turn twice) and interrupt it
// (Restate cancels the invocation; the running step is aborted and the turn ends "interrupted").
import { type ApprovalDecisionInput, KilnError } from "@kiln/protocol";
import { APPROVAL_OBJECT } from "./approval-object.ts";
import {
  type DurableTurnRequest,
  type ReplaceHistoryRequest,
  type SeedHistoryRequest,
  THREAD_OBJECT,
} from "./thread-api.ts";

/** Submits a turn; resolves to Restate's invocation id once Restate has accepted it. */
export async function submitTurn(
  ingressUrl: string,
  threadId: string,
  request: DurableTurnRequest,
  signal?: AbortSignal,
): Promise<string> {
  const response = await restateFetch(
    ingressUrl,
    `/${THREAD_OBJECT}/${encodeURIComponent(threadId)}/runTurn/send`,
    "ingress",
    {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": request.turnId },
      body: JSON.stringify(request),
    },
    signal,
  );
  if (!response.ok) {
    throw new KilnError(
      "internal",
      `Restate refused turn ${request.turnId} (HTTP ${response.status}: ${(await response.text()).slice(0, 300)})`,
    );
  }
  const body = (await response.json()) as { invocationId?: unknown };
  if (typeof body.invocationId !== "string")
    throw new KilnError("internal", "Restate accepted the turn without an invocation id");
  return body.invocationId;
}

/** Answers a pending approval: the approval object wakes the turn waiting on it. */
export async function decideApproval(
  ingressUrl: string,
  approvalId: string,
  decision: ApprovalDecisionInput,
  signal?: AbortSignal,
): Promise<void> {
  const response = await restateFetch(
    ingressUrl,
    `/${APPROVAL_OBJECT}/${encodeURIComponent(approvalId)}/decide`,
    "ingress",
    {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": `decide-${approvalId}` },
      body: JSON.stringify({ decision }),
    },
    signal,
  );
  if (!response.ok) {
    throw new KilnError(
      "internal",
      `Restate refused the decision on approval ${approvalId} (HTTP ${response.status}: ${(await response.text()).slice(0, 300)})`,
      { retryable: true },
    );
  }
}

/**
 * Calls one of the thread object's history handlers (`replaceHistory`, `seedHistory`) through the
 * ingress and waits for its answer. The handler's 404 and 409 come back as `not_found` and `conflict`.
 */
export async function callThreadHandler<T>(
  ingressUrl: string,
  threadId: string,
  handler: "replaceHistory" | "seedHistory",
  body: ReplaceHistoryRequest | SeedHistoryRequest,
  signal?: AbortSignal,
): Promise<T> {
  const response = await restateFetch(
    ingressUrl,
    `/${THREAD_OBJECT}/${encodeURIComponent(threadId)}/${handler}`,
    "ingress",
    {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    },
    signal,
  );
  const text = await response.text();
  if (response.ok) return JSON.parse(text) as T;
  let message = text.slice(0, 300);
  try {
    message = (JSON.parse(text) as { message?: string }).message ?? message;
  } catch {
    // Not JSON: the text as it is.
  }
  const code = response.status === 409 ? "conflict" : response.status === 404 ? "not_found" : "internal";
  throw new KilnError(
    code,
    code === "internal" ? `Restate's ${handler} of ${threadId} failed: ${message}` : message,
  );
}

/** Interrupts a running turn by cancelling its invocation (admin API). */
export async function interruptTurn(
  adminUrl: string,
  invocationId: string,
  signal?: AbortSignal,
): Promise<void> {
  const response = await restateFetch(
    adminUrl,
    `/invocations/${encodeURIComponent(invocationId)}/cancel`,
    "admin API",
    { method: "PATCH" },
    signal,
  );
  if (!response.ok && response.status !== 404) {
    throw new KilnError(
      "internal",
      `Restate did not cancel ${invocationId} (HTTP ${response.status}: ${(await response.text()).slice(0, 300)})`,
    );
  }
}

/** One request to Restate's ingress or admin API; a network failure says what could not be reached. */
async function restateFetch(
  base: string,
  path: string,
  what: "ingress" | "admin API",
  init: RequestInit,
  signal?: AbortSignal,
): Promise<Response> {
  try {
    return await fetch(new URL(path, base), { ...init, ...(signal === undefined ? {} : { signal }) });
  } catch (error) {
    throw new KilnError(
      "internal",
      `cannot reach Restate's ${what} at ${base}: ${error instanceof Error ? error.message : String(error)}. Is restate-server running?`,
    );
  }
}

/** The engine as an API node uses it (`DurableTurnClient` of @kiln/server). */
export interface DurableClient {
  submit(threadId: string, request: DurableTurnRequest, signal?: AbortSignal): Promise<string>;
  interrupt(threadId: string, invocationId: string | undefined, signal?: AbortSignal): Promise<void>;
  decideApproval(approvalId: string, decision: ApprovalDecisionInput, signal?: AbortSignal): Promise<void>;
  /**
   * Where the invocation of the thread's turn `turnId` is: `running` (not completed), `completed`
   * (ended, also when killed), or `unknown` (Restate does not list it: not yet, or forgotten).
   */
  turnInvocation(
    threadId: string,
    turnId: string,
    signal?: AbortSignal,
  ): Promise<"running" | "completed" | "unknown">;
  /** Rolls a thread back to a planned history (see `replaceHistory`). */
  replaceHistory(threadId: string, request: ReplaceHistoryRequest, signal?: AbortSignal): Promise<void>;
  /** Gives a new thread (a fork) its settings and history (see `seedHistory`). */
  seedHistory(threadId: string, request: SeedHistoryRequest, signal?: AbortSignal): Promise<void>;
}

/** A client of one Restate cluster (its ingress and admin URLs). */
export function createDurableClient(urls: { ingressUrl: string; adminUrl: string }): DurableClient {
  return {
    submit: (threadId, request, signal) => submitTurn(urls.ingressUrl, threadId, request, signal),
    decideApproval: (approvalId, decision, signal) =>
      decideApproval(urls.ingressUrl, approvalId, decision, signal),
    turnInvocation: (threadId, turnId, signal) => turnInvocation(urls.adminUrl, threadId, turnId, signal),
    async replaceHistory(threadId, request, signal) {
      await callThreadHandler(urls.ingressUrl, threadId, "replaceHistory", request, signal);
    },
    async seedHistory(threadId, request, signal) {
      await callThreadHandler(urls.ingressUrl, threadId, "seedHistory", request, signal);
    },
    async interrupt(threadId, invocationId, signal) {
      const id = invocationId ?? (await runningInvocation(urls.adminUrl, threadId, signal));
      if (id === undefined) {
        throw new KilnError("conflict", `thread ${threadId} has no running turn on Restate`);
      }
      await interruptTurn(urls.adminUrl, id, signal);
    },
  };
}

/** Where a turn's invocation is (see `DurableClient.turnInvocation`); the turn id is its idempotency key. */
export async function turnInvocation(
  adminUrl: string,
  threadId: string,
  turnId: string,
  signal?: AbortSignal,
): Promise<"running" | "completed" | "unknown"> {
  if (!/^[A-Za-z0-9_]+$/.test(threadId) || !/^[A-Za-z0-9_]+$/.test(turnId)) return "unknown";
  const rows = await introspect(
    adminUrl,
    `SELECT status FROM sys_invocation WHERE target_service_name = '${THREAD_OBJECT}' AND target_service_key = '${threadId}' AND idempotency_key = '${turnId}'`,
    `thread ${threadId}'s turn ${turnId}`,
    signal,
  );
  const status = rows[0]?.status;
  return status === undefined ? "unknown" : status === "completed" ? "completed" : "running";
}

/** Runs a query on Restate's SQL introspection (admin `POST /query`). */
async function introspect(
  adminUrl: string,
  query: string,
  what: string,
  signal?: AbortSignal,
): Promise<Record<string, unknown>[]> {
  const response = await restateFetch(
    adminUrl,
    "/query",
    "admin API",
    {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ query }),
    },
    signal,
  );
  if (!response.ok) {
    throw new KilnError(
      "internal",
      `Restate's admin API did not list ${what} (HTTP ${response.status}: ${(await response.text()).slice(0, 300)})`,
    );
  }
  return ((await response.json()) as { rows?: Record<string, unknown>[] }).rows ?? [];
}

/**
 * The thread's running `runTurn` invocation, from Restate's SQL introspection (admin `POST /query`):
 * another API node may have submitted it.
 */
export async function runningInvocation(
  adminUrl: string,
  threadId: string,
  signal?: AbortSignal,
): Promise<string | undefined> {
  if (!/^[A-Za-z0-9_]+$/.test(threadId)) return undefined;
  const rows = await introspect(
    adminUrl,
    `SELECT id FROM sys_invocation WHERE target_service_name = '${THREAD_OBJECT}' AND target_service_key = '${threadId}' AND target_handler_name = 'runTurn' AND status <> 'completed' ORDER BY created_at ASC LIMIT 1`,
    `thread ${threadId}'s invocations`,
    signal,
  );
  const id = rows[0]?.id;
  return typeof id === "string" ? id : undefined;
}
