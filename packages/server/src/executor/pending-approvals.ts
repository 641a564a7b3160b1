// Approvals waiting for a person. The agent's approval gate journals the request (an `approval`
// item, pending) and calls `wait`; the request is listed by `GET /approvals` until `respond` (from
// `POST /approvals/{id}`) or the turn's abort answers it. After a restart the resumed turn asks the
// same approval again (same id), so it shows up here again.
import type { PendingApproval } from "@kiln/core";
import type { ApprovalDecisionInput, PendingApprovalResource } from "@kiln/protocol";
import { type ApprovalItem, KilnError } from "@kiln/protocol";

interface Entry {
  resource: PendingApprovalResource;
  userId: string;
  resolve: (decision: ApprovalDecisionInput) => void;
}

/** What a new wait is about. */
export interface ApprovalWait {
  request: PendingApproval;
  userId: string;
  threadId: string;
  turnId: string | undefined;
  askedAt: number;
}

/** Every approval this process is waiting for. */
export class PendingApprovals {
  private readonly entries = new Map<string, Entry>();

  /** Waits for the decision on `request`; the turn's abort answers `aborted`. */
  wait(w: ApprovalWait, signal: AbortSignal): Promise<ApprovalDecisionInput> {
    const { request } = w;
    const approval: ApprovalItem = {
      id: request.id,
      type: "approval",
      callId: request.callId,
      kind: request.kind,
      summary: request.summary,
      ...(request.reason === undefined ? {} : { reason: request.reason }),
      escalated: request.escalated,
      ...(request.prefixRule === undefined ? {} : { prefixRule: request.prefixRule }),
      decision: "pending",
    };
    return new Promise((resolve) => {
      if (signal.aborted) {
        resolve("aborted");
        return;
      }
      const finish = (decision: ApprovalDecisionInput) => {
        signal.removeEventListener("abort", onAbort);
        this.entries.delete(request.id);
        resolve(decision);
      };
      const onAbort = () => finish("aborted");
      signal.addEventListener("abort", onAbort, { once: true });
      this.entries.set(request.id, {
        userId: w.userId,
        resolve: finish,
        resource: {
          id: request.id,
          threadId: w.threadId,
          ...(w.turnId === undefined ? {} : { turnId: w.turnId }),
          askedAt: w.askedAt,
          approval,
        },
      });
    });
  }

  /** The user's pending approvals, oldest first. */
  list(userId: string): PendingApprovalResource[] {
    return [...this.entries.values()]
      .filter((e) => e.userId === userId)
      .map((e) => e.resource)
      .sort((a, b) => a.askedAt - b.askedAt);
  }

  /** Whether a thread is waiting for a decision. */
  isWaiting(threadId: string): boolean {
    for (const e of this.entries.values()) if (e.resource.threadId === threadId) return true;
    return false;
  }

  /** Answers one of the user's approvals; another user's (or an unknown) approval is `not_found`. */
  respond(userId: string, id: string, decision: ApprovalDecisionInput): PendingApprovalResource {
    const entry = this.entries.get(id);
    if (entry === undefined || entry.userId !== userId) {
      throw new KilnError(
        "not_found",
        `no pending approval ${id}: it was answered already, or its turn ended`,
        {
          details: { field: "id" },
        },
      );
    }
    entry.resolve(decision);
    return entry.resource;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Forgets every wait without answering it (shutdown: the turn resumes and asks again later). */
  abandonAll(): void {
    this.entries.clear();
  }
}
