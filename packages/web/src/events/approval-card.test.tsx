// @vitest-environment happy-dom
// An approval card's buttons call back with the decision; a failed call is shown and can be retried;
// an answered approval has no buttons.
import type { ApprovalDecisionInput, ApprovalItem } from "@kiln/protocol";
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { ApprovalCard } from "./approval-card.tsx";

afterEach(cleanup);

const approval: ApprovalItem = {
  id: "apr_01HZZZZZZZZZZZZZZZZZZZZZZZ",
  type: "approval",
  callId: "call_7",
  kind: "command",
  summary: "git push origin main",
  reason: "pushes to the remote",
  prefixRule: ["git", "push"],
  decision: "pending",
};

describe("ApprovalCard", () => {
  it.each([
    ["Approve", "approved"],
    ["Approve for session", "approved_for_session"],
    ["Always allow “git push”", "approved_prefix"],
    ["Deny", "denied"],
  ] as const)("the %s button calls back with %s", async (name, expected) => {
    const decisions: ApprovalDecisionInput[] = [];
    render(<ApprovalCard approval={approval} onDecision={async (d) => void decisions.push(d)} />);
    expect(screen.getByRole("region", { name: "Approval: git push origin main" }).textContent).toContain(
      "pushes to the remote",
    );
    fireEvent.click(screen.getByRole("button", { name }));
    await waitFor(() => expect(decisions).toEqual([expected]));
    await waitFor(() => expect(screen.queryAllByRole("button")).toEqual([]));
  });

  it("shows why a decision could not be sent and keeps the buttons", async () => {
    let calls = 0;
    render(
      <ApprovalCard
        approval={approval}
        onDecision={async () => {
          calls++;
          throw new Error("the approval is no longer pending");
        }}
      />,
    );
    fireEvent.click(screen.getByRole("button", { name: "Deny" }));
    await waitFor(() =>
      expect(screen.getByRole("alert").textContent).toBe(
        "Could not send the decision: the approval is no longer pending",
      ),
    );
    expect(calls).toBe(1);
    expect((screen.getByRole("button", { name: "Deny" }) as HTMLButtonElement).disabled).toBe(false);
  });

  it("shows the decision of an answered approval, and no buttons", () => {
    render(
      <ApprovalCard approval={{ ...approval, decision: "denied" }} onDecision={async () => undefined} />,
    );
    expect(screen.getByRole("status").textContent).toBe("Denied");
    expect(screen.queryAllByRole("button")).toEqual([]);
  });
});
