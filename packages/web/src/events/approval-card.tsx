// A request for a person's decision (a command, a patch, a tool call the policy does not allow on its
// own): what would run and why, with Approve / Approve for session / Deny while it is pending, then
// the decision.
import type { ApprovalDecisionInput, ApprovalItem } from "@kiln/protocol";
import { memo, useState } from "react";
import { errorMessage } from "../lib/format.ts";
import type { ItemState } from "./fold-events.ts";

/** Props of {@link ApprovalCard}. */
export interface ApprovalCardProps {
  approval: ApprovalItem;
  /** Default: `completed` unless the decision is `pending`. */
  state?: ItemState;
  /** Sends the decision; without it the card only shows the request. A rejection is shown on the card. */
  onDecision?: (decision: ApprovalDecisionInput) => Promise<unknown> | undefined;
}

const DECIDED: Record<ApprovalItem["decision"], string> = {
  pending: "Waiting for a decision",
  approved: "Approved",
  approved_for_session: "Approved for this session",
  approved_prefix: "Approved (commands with this prefix)",
  denied: "Denied",
  aborted: "Aborted",
};

const KIND: Record<ApprovalItem["kind"], string> = {
  command: "Run this command?",
  patch: "Apply this patch?",
  tool: "Call this tool?",
  plan: "Go ahead with this plan?",
};

/** An approval request with its decision buttons. */
export const ApprovalCard = memo(function ApprovalCard({ approval, state, onDecision }: ApprovalCardProps) {
  const [sending, setSending] = useState<ApprovalDecisionInput | undefined>();
  const [sent, setSent] = useState<ApprovalDecisionInput | undefined>();
  const [error, setError] = useState<string | undefined>();
  const itemState = state ?? (approval.decision === "pending" ? "streaming" : "completed");
  const waiting = approval.decision === "pending" && itemState === "streaming";

  const decide = async (decision: ApprovalDecisionInput) => {
    if (onDecision === undefined) return;
    setSending(decision);
    setError(undefined);
    try {
      await onDecision(decision);
      setSent(decision);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setSending(undefined);
    }
  };

  const prefix = approval.prefixRule?.join(" ");
  const status =
    approval.decision !== "pending"
      ? DECIDED[approval.decision]
      : itemState === "abandoned"
        ? "No longer waiting: the turn ended"
        : sent !== undefined
          ? `${DECIDED[sent]}…`
          : DECIDED.pending;
  return (
    <section
      className={`event card approval-card approval-${approval.decision}${waiting ? " is-waiting" : ""}`}
      aria-label={`Approval: ${approval.summary}`}
    >
      <header className="card-header">
        <strong>{KIND[approval.kind]}</strong>
        {approval.escalated === true && <span className="pill pill-failed">outside the sandbox</span>}
      </header>
      <pre className="approval-summary">{approval.summary}</pre>
      {approval.reason !== undefined && <p className="approval-reason">{approval.reason}</p>}
      <p className="approval-status" role="status">
        {status}
      </p>
      {waiting && onDecision !== undefined && sent === undefined && (
        <div className="button-row">
          <button
            type="button"
            className="primary"
            disabled={sending !== undefined}
            onClick={() => decide("approved")}
          >
            Approve
          </button>
          <button
            type="button"
            disabled={sending !== undefined}
            onClick={() => decide("approved_for_session")}
          >
            Approve for session
          </button>
          {prefix !== undefined && prefix !== "" && (
            <button type="button" disabled={sending !== undefined} onClick={() => decide("approved_prefix")}>
              Always allow “{prefix}”
            </button>
          )}
          <button
            type="button"
            className="danger"
            disabled={sending !== undefined}
            onClick={() => decide("denied")}
          >
            Deny
          </button>
        </div>
      )}
      {error !== undefined && (
        <p className="error" role="alert">
          Could not send the decision: {error}
        </p>
      )}
    </section>
  );
});
