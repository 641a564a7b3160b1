// Folding a thread's envelopes: deltas into items, item/completed final, seq dedupe, model retries,
// turns and usage.
import type { EventEnvelope, ThreadEvent, Usage } from "@kiln/protocol";
import { describe, expect, it } from "vitest";
import { applyEvents, EMPTY_TIMELINE, foldEvents, pendingApprovals } from "./fold-events.ts";

const THREAD = "thr_1";
const at = (seq: number) => 1_700_000_000_000 + seq * 1000;
const env = (seq: number, event: ThreadEvent, turnId = "turn_1"): EventEnvelope => ({
  seq,
  threadId: THREAD,
  turnId,
  at: at(seq),
  event,
});
const usage = (total: number): Usage => ({
  inputTokens: total - 10,
  cachedInputTokens: 0,
  outputTokens: 10,
  reasoningOutputTokens: 0,
  totalTokens: total,
});

const messageTurn: EventEnvelope[] = [
  env(1, { type: "turn/started", turnId: "turn_1" }),
  env(2, { type: "item/started", item: { id: "msg_1", type: "agentMessage", text: "" } }),
  env(3, { type: "item/agentMessage/delta", itemId: "msg_1", delta: "Hello" }),
  env(4, { type: "item/agentMessage/delta", itemId: "msg_1", delta: ", world" }),
];

describe("foldEvents", () => {
  it("folds agent message deltas into one streaming item", () => {
    const state = foldEvents(messageTurn);
    expect(state.lastSeq).toBe(4);
    expect(state.runningTurnId).toBe("turn_1");
    expect(state.turnStartedAt).toEqual({ turn_1: at(1) });
    expect(state.entries).toEqual([
      {
        type: "item",
        key: "msg_1",
        item: { id: "msg_1", type: "agentMessage", text: "Hello, world" },
        state: "streaming",
        turnId: "turn_1",
        startedAt: at(2),
        completedAt: undefined,
      },
    ]);
  });

  it("takes item/completed as final: later deltas for the item are ignored", () => {
    const state = foldEvents([
      ...messageTurn,
      env(5, { type: "item/completed", item: { id: "msg_1", type: "agentMessage", text: "Hello, world!" } }),
      env(6, { type: "item/agentMessage/delta", itemId: "msg_1", delta: " (late)" }),
    ]);
    expect(state.entries[0]).toMatchObject({
      item: { id: "msg_1", type: "agentMessage", text: "Hello, world!" },
      state: "completed",
      completedAt: at(5),
    });
  });

  it("never folds an event twice: a replay after a reconnect is skipped by seq", () => {
    const first = applyEvents(EMPTY_TIMELINE, messageTurn.slice(0, 3));
    // The stream reconnected with after=2 by mistake: seq 3 comes again, then 4.
    const second = applyEvents(first, messageTurn.slice(2));
    expect(second.entries[0]).toMatchObject({ item: { text: "Hello, world" } });
    expect(foldEvents([...messageTurn, ...messageTurn]).entries).toEqual(foldEvents(messageTurn).entries);
    // Nothing new: the very same state object (no re-render).
    expect(applyEvents(second, messageTurn)).toBe(second);
  });

  it("appends command output deltas and keeps the completed command's exit code and duration", () => {
    const command = {
      id: "cmd_1",
      type: "commandExecution" as const,
      command: "npm test",
      cwd: "/ws",
      aggregatedOutput: "",
      exitCode: null,
      durationMs: null,
      status: "in_progress" as const,
    };
    const running = foldEvents([
      env(1, { type: "item/started", item: command }),
      env(2, { type: "item/commandExecution/outputDelta", itemId: "cmd_1", delta: "ok 1\n" }),
      env(3, { type: "item/commandExecution/outputDelta", itemId: "cmd_1", delta: "ok 2\n" }),
    ]);
    expect(running.entries[0]).toMatchObject({
      item: { aggregatedOutput: "ok 1\nok 2\n" },
      state: "streaming",
    });
    const done = applyEvents(running, [
      env(4, {
        type: "item/completed",
        item: {
          ...command,
          aggregatedOutput: "ok 1\nok 2\n",
          exitCode: 0,
          durationMs: 1234,
          status: "completed",
        },
      }),
    ]);
    expect(done.entries[0]).toMatchObject({
      item: { exitCode: 0, durationMs: 1234, status: "completed" },
      state: "completed",
    });
  });

  it("drops what a failed model call streamed when the call is retried, and notes the retry", () => {
    const state = foldEvents([
      ...messageTurn,
      env(5, {
        type: "model/retrying",
        attempt: 1,
        maxAttempts: 5,
        delayMs: 1500,
        error: { code: "model_stream_disconnected", message: "stream closed", retryable: true },
      }),
      env(6, { type: "item/started", item: { id: "msg_2", type: "agentMessage", text: "" } }),
      env(7, { type: "item/agentMessage/delta", itemId: "msg_2", delta: "Hi" }),
    ]);
    expect(state.entries.map((e) => e.key)).toEqual(["seq:5", "msg_2"]);
    expect(state.entries[0]).toMatchObject({
      type: "notice",
      level: "retrying",
      message: "Model error, retrying (1/5) in 1.5 s: stream closed",
    });
  });

  it("marks where a turn ended: open items are abandoned, usage adds up across turns, cost is kept", () => {
    const state = foldEvents([
      ...messageTurn,
      env(5, {
        type: "usage/updated",
        call: usage(100),
        turn: usage(100),
        cost: { callUsd: 0.01, turnUsd: 0.01, threadUsd: 0.01 },
      }),
      env(6, { type: "turn/completed", turnId: "turn_1", status: "interrupted", usage: usage(100) }),
      env(7, { type: "turn/started", turnId: "turn_2" }, "turn_2"),
      env(
        8,
        {
          type: "usage/updated",
          call: usage(50),
          turn: usage(50),
          cost: { callUsd: 0.005, turnUsd: 0.005, threadUsd: 0.015 },
        },
        "turn_2",
      ),
    ]);
    expect(state.entries.map((e) => e.key)).toEqual(["msg_1", "turn:turn_1"]);
    expect(state.entries[0]).toMatchObject({ key: "msg_1", state: "abandoned" });
    expect(state.entries[1]).toEqual({
      type: "turn",
      key: "turn:turn_1",
      turnId: "turn_1",
      status: "interrupted",
      startedAt: at(1),
      completedAt: at(6),
      usage: usage(100),
      error: undefined,
    });
    expect(state.runningTurnId).toBe("turn_2");
    expect(state.usage).toEqual({
      turn: usage(50),
      thread: {
        inputTokens: 130,
        cachedInputTokens: 0,
        outputTokens: 20,
        reasoningOutputTokens: 0,
        totalTokens: 150,
      },
      turnUsd: 0.005,
      threadUsd: 0.015,
    });
  });

  it("lists approvals still waiting for a decision", () => {
    const approval = {
      id: "apr_01",
      type: "approval" as const,
      callId: "call_1",
      kind: "command" as const,
      summary: "rm -rf build",
      decision: "pending" as const,
    };
    const waiting = foldEvents([env(1, { type: "item/started", item: approval })]);
    expect(pendingApprovals(waiting)).toEqual([approval]);
    const answered = applyEvents(waiting, [
      env(2, { type: "item/completed", item: { ...approval, decision: "denied" } }),
    ]);
    expect(pendingApprovals(answered)).toEqual([]);
  });
});
