// Durable approvals: a turn waiting for a person waits on a Restate awakeable. The awakeable's id is
// known only inside the turn's invocation, but an API node knows the approval's id (the `approval`
// item in the store's events), so a small virtual object keyed by the approval id joins the two:
// the turn sends `register` with its awakeable id, the API node calls `decide` with the decision, and
// whichever comes second resolves the awakeable (both are exclusive on the key, so they never race).
import type { ApprovalDecision, PendingApproval, StepJournal } from "@kiln/core";
import { ApprovalDecisionInput } from "@kiln/protocol";
import * as restate from "@restatedev/restate-sdk";
import { isCancelled } from "./restate-journal.ts";

/** The Restate name of the approval object (ingress: `/KilnApproval/{approvalId}/decide`). */
export const APPROVAL_OBJECT = "KilnApproval";

/** The approval object, to bind to a Restate endpoint next to the thread object. */
export const approvalObject = restate.object({
  name: APPROVAL_OBJECT,
  handlers: {
    /** The turn waits on `awakeableId`: resolve it now if the decision came first. */
    register: async (ctx: restate.ObjectContext, raw: unknown): Promise<void> => {
      const awakeableId = (raw as { awakeableId?: unknown } | null)?.awakeableId;
      if (typeof awakeableId !== "string") throw new restate.TerminalError("register needs an awakeableId");
      const decision = await ctx.get<ApprovalDecision>("decision");
      if (decision === null) {
        ctx.set("awakeableId", awakeableId);
        return;
      }
      ctx.resolveAwakeable(awakeableId, decision);
      ctx.clearAll();
    },
    /** A person's decision: wakes the turn, or waits for it to register. */
    decide: async (ctx: restate.ObjectContext, raw: unknown): Promise<{ decision: string }> => {
      const parsed = ApprovalDecisionInput.safeParse((raw as { decision?: unknown } | null)?.decision);
      if (!parsed.success) throw new restate.TerminalError(`invalid decision: ${parsed.error.message}`);
      const awakeableId = await ctx.get<string>("awakeableId");
      if (awakeableId === null) {
        ctx.set("decision", parsed.data);
        return { decision: parsed.data };
      }
      ctx.resolveAwakeable(awakeableId, parsed.data);
      ctx.clearAll();
      return { decision: parsed.data };
    },
  },
});

/**
 * The journal hook that waits for an approval on an awakeable (outside any `ctx.run`). A cancelled
 * invocation (an interrupt) answers `aborted`.
 */
export function awaitApproval(
  ctx: restate.ObjectContext,
  onCancel: () => void,
): NonNullable<StepJournal["approval"]> {
  return async (request: PendingApproval): Promise<ApprovalDecision> => {
    const awakeable = ctx.awakeable<ApprovalDecision>();
    ctx.objectSendClient(approvalObject, request.id).register({ awakeableId: awakeable.id });
    try {
      return await awakeable.promise;
    } catch (error) {
      if (!isCancelled(error)) throw error;
      onCancel();
      return "aborted";
    }
  };
}
