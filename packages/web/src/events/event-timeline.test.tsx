// @vitest-environment happy-dom
// The timeline renders what the events say, once: deltas folded into one message, duplicates by seq
// shown once, approvals answered through the callback.
import type { EventEnvelope, ThreadEvent } from "@kiln/protocol";
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { EventTimeline } from "./event-timeline.tsx";

afterEach(cleanup);

const env = (seq: number, event: ThreadEvent): EventEnvelope => ({
  seq,
  threadId: "thr_1",
  turnId: "turn_1",
  at: 1_700_000_000_000 + seq,
  event,
});

const approval = {
  id: "apr_01HZZZZZZZZZZZZZZZZZZZZZZZ",
  type: "approval" as const,
  callId: "call_1",
  kind: "command" as const,
  summary: "npm install left-pad",
  reason: "needs the network",
  decision: "pending" as const,
};

describe("EventTimeline", () => {
  it("folds streamed deltas into a single agent message rendered as markdown", () => {
    render(
      <EventTimeline
        events={[
          env(1, { type: "turn/started", turnId: "turn_1" }),
          env(2, { type: "item/started", item: { id: "msg_1", type: "agentMessage", text: "" } }),
          env(3, { type: "item/agentMessage/delta", itemId: "msg_1", delta: "The fix is in **add" }),
          env(4, { type: "item/agentMessage/delta", itemId: "msg_1", delta: ".mjs**." }),
        ]}
      />,
    );
    const messages = screen.getAllByRole("article", { name: "Agent message" });
    expect(messages).toHaveLength(1);
    expect(messages[0]!.textContent?.trim()).toBe("The fix is in add.mjs.");
    expect(messages[0]!.querySelector("strong")?.textContent).toBe("add.mjs");
    expect(messages[0]!.getAttribute("aria-busy")).toBe("true");
    expect(screen.getByRole("status").textContent).toContain("Agent is working");
  });

  it("shows an event delivered twice (same seq) only once", () => {
    const delta = env(3, { type: "item/agentMessage/delta", itemId: "msg_1", delta: "once " });
    const started = env(2, { type: "item/started", item: { id: "msg_1", type: "agentMessage", text: "" } });
    const command = env(4, {
      type: "item/completed",
      item: {
        id: "cmd_1",
        type: "commandExecution",
        command: "ls",
        cwd: "/ws",
        aggregatedOutput: "a\n",
        exitCode: 0,
        durationMs: 5,
        status: "completed",
      },
    });
    render(<EventTimeline events={[started, delta, delta, command, started, command, delta]} />);
    expect(screen.getByRole("article", { name: "Agent message" }).textContent?.trim()).toBe("once");
    expect(screen.getAllByRole("article", { name: "Command: ls" })).toHaveLength(1);
    expect(screen.getAllByRole("listitem")).toHaveLength(2);
  });

  it("renders the reasoning collapsed and the turn's end with its usage", () => {
    const usage = {
      inputTokens: 1200,
      cachedInputTokens: 0,
      outputTokens: 34,
      reasoningOutputTokens: 0,
      totalTokens: 1234,
    };
    render(
      <EventTimeline
        events={[
          env(1, { type: "turn/started", turnId: "turn_1" }),
          env(2, {
            type: "item/completed",
            item: { id: "rs_1", type: "reasoning", text: "Look at the test first." },
          }),
          env(3, { type: "turn/completed", turnId: "turn_1", status: "completed", usage }),
        ]}
      />,
    );
    const details = screen.getByText("Reasoning").closest("details");
    expect(details?.open).toBe(false);
    expect(details?.textContent).toContain("Look at the test first.");
    expect(screen.getByRole("status", { name: "Turn usage: 1.2k tokens" })).toBeTruthy();
    expect(screen.queryByText(/Agent is working/)).toBeNull();
  });

  it("calls back with the approval and the decision when a button is pressed", async () => {
    const calls: string[] = [];
    render(
      <EventTimeline
        events={[env(1, { type: "item/started", item: approval })]}
        onApprovalDecision={async (item, decision) => {
          calls.push(`${item.id} ${decision}`);
        }}
      />,
    );
    const card = screen.getByRole("region", { name: "Approval: npm install left-pad" });
    fireEvent.click(within(card).getByRole("button", { name: "Approve for session" }));
    await waitFor(() => expect(calls).toEqual([`${approval.id} approved_for_session`]));
    await waitFor(() => expect(within(card).queryByRole("button", { name: "Approve" })).toBeNull());
    expect(within(card).getByRole("status").textContent).toBe("Approved for this session…");
  });
});
