// Decides tool calls that need a person: rules granted earlier in the session answer at once; the
// policy `never` declines; otherwise the request becomes an `approval` item (journaled as pending) and
// the approver (a terminal prompt, an embedding callback, a server client) answers it. Without an
// approver, the non-interactive rule applies: declined, with a warning. Pending approvals survive a
// crash: `restore` finds them in the rollout and the same approval is asked again.
import {
  type ApprovalItem,
  type ApprovalPolicy,
  type EventEnvelope,
  type IdPrefix,
  newId,
  type ThreadEvent,
} from "@kiln/protocol";
import type { ApprovalDecision, ApprovalRequest } from "../tools/tool.ts";

/** An approval request with its id, as shown to an approver. */
export interface PendingApproval extends ApprovalRequest {
  id: string;
}

/** Answers approval requests (a person at a terminal, an embedding program, a server client). */
export type Approver = (request: PendingApproval, signal: AbortSignal) => Promise<ApprovalDecision>;

/** The approval state of one thread. */
export class ApprovalGate {
  private readonly sessionCommands = new Set<string>();
  private readonly sessionPrefixes: string[][] = [];
  private readonly restored = new Map<string, ApprovalItem>();

  constructor(
    private readonly policy: () => ApprovalPolicy,
    private readonly approver: Approver | undefined,
    /** Makes approval ids (a journal's, so a replay asks the same approval). */
    private readonly makeId: (prefix: IdPrefix) => string = newId,
  ) {}

  /** Rebuilds session rules and still-pending approvals from a thread's events. */
  restore(events: EventEnvelope[]): void {
    const pending = new Map<string, ApprovalItem>();
    for (const { event } of events) {
      if (event.type !== "item/started" && event.type !== "item/completed") continue;
      const item = event.item;
      if (item.type !== "approval") continue;
      if (event.type === "item/started") {
        pending.set(item.callId, item);
        continue;
      }
      pending.delete(item.callId);
      this.remember(item);
    }
    for (const [callId, item] of pending) this.restored.set(callId, item);
  }

  /** Approvals asked before a crash and never answered, by call id. */
  pendingCallIds(): Set<string> {
    return new Set(this.restored.keys());
  }

  /** Closes an approval left pending by a crash whose turn will not continue. */
  abandon(callId: string, emit: (event: ThreadEvent) => void): void {
    const item = this.restored.get(callId);
    if (item === undefined) return;
    this.restored.delete(callId);
    emit({ type: "item/completed", item: { ...item, decision: "aborted" } });
  }

  /** The decision for a request: from session rules, the policy, or the approver. */
  async ask(
    request: ApprovalRequest,
    emit: (event: ThreadEvent) => void,
    signal: AbortSignal,
  ): Promise<ApprovalDecision> {
    // The policy first: a rule granted in code mode must not let plan or execute mode escalate.
    if (this.policy() === "never") return "denied";
    if (this.preapproved(request)) return "approved";
    const restored = this.restored.get(request.callId);
    this.restored.delete(request.callId);
    const item: ApprovalItem = restored ?? {
      id: this.makeId("apr"),
      type: "approval",
      callId: request.callId,
      kind: request.kind,
      summary: request.summary,
      ...(request.reason === undefined ? {} : { reason: request.reason }),
      escalated: request.escalated,
      ...(request.prefixRule === undefined ? {} : { prefixRule: request.prefixRule }),
      decision: "pending",
    };
    if (restored === undefined) emit({ type: "item/started", item });
    let decision: ApprovalDecision;
    if (this.approver === undefined) {
      emit({
        type: "warning",
        message: `approval needed for "${request.summary}" but nobody can answer here (non-interactive, policy ${this.policy()}): declined`,
      });
      decision = "denied";
    } else {
      decision = await this.approver({ ...request, id: item.id }, signal);
    }
    const done: ApprovalItem = { ...item, decision };
    emit({ type: "item/completed", item: done });
    this.remember(done);
    return decision;
  }

  private remember(item: ApprovalItem): void {
    if (item.decision === "approved_for_session")
      this.sessionCommands.add(ruleKey(item.kind, item.escalated === true, item.summary));
    if (item.decision === "approved_prefix" && item.prefixRule !== undefined)
      this.sessionPrefixes.push(item.prefixRule);
  }

  private preapproved(request: ApprovalRequest): boolean {
    if (this.sessionCommands.has(ruleKey(request.kind, request.escalated, request.summary))) return true;
    if (request.kind !== "command" || /[;&|<>`$()\n]/.test(request.summary)) return false;
    const words = request.summary.trim().split(/\s+/);
    return this.sessionPrefixes.some((prefix) => prefix.length > 0 && prefix.every((w, i) => words[i] === w));
  }
}

/** Approving a command in the sandbox says nothing about running it outside: the key tells them apart. */
function ruleKey(kind: string, escalated: boolean, summary: string): string {
  return `${kind}:${escalated ? "escalated" : "sandboxed"}:${summary}`;
}
