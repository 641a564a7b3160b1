// Approvals through the embedding API (`onApproval`), against the fake model server and the real
// bubblewrap sandbox: which calls ask, what each decision does, session and prefix rules, and how an
// approval shows in the event stream.
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { ApprovalDecision, PendingApproval } from "@kiln/core";
import type { ApprovalPolicy, ThreadEvent } from "@kiln/protocol";
import { describe, expect, it } from "vitest";
import { useKilnHarness } from "./harness.ts";

const harness = useKilnHarness();
const { requestInput, toolOutputs } = harness;

/** An approver that answers from a list and records what it was asked. */
function scriptedApprover(...answers: ApprovalDecision[]) {
  const asked: PendingApproval[] = [];
  return {
    asked,
    onApproval: (request: PendingApproval): ApprovalDecision => {
      asked.push(request);
      const answer = answers[asked.length - 1];
      if (answer === undefined) throw new Error(`unexpected approval request #${asked.length}`);
      return answer;
    },
  };
}

/** Runs `prompt` in a new thread on the repo under `approvalPolicy`, answering approvals with `answers`. */
async function runApproving(approvalPolicy: ApprovalPolicy, prompt: string, ...answers: ApprovalDecision[]) {
  const approver = scriptedApprover(...answers);
  const thread = harness.kiln.startThread({
    cwd: harness.repo.dir,
    approvalPolicy,
    onApproval: approver.onApproval,
  });
  const result = await thread.run(prompt);
  thread.close();
  return { approver, result };
}

const touchScenario = {
  steps: [
    { output: [{ type: "exec_command" as const, cmd: "touch made.txt" }] },
    { output: [{ type: "message" as const, text: "done" }] },
  ],
};

const anyId = expect.any(String);

describe("approvals under the untrusted policy", () => {
  it("asks before a mutating command and runs it when approved", async () => {
    const { server, repo } = harness;
    server.setScenario(touchScenario);
    const { approver, result } = await runApproving("untrusted", "make a file", "approved");

    expect(result.status).toBe("completed");
    expect(approver.asked).toEqual([
      {
        id: expect.stringMatching(/^apr_/),
        kind: "command",
        callId: anyId,
        summary: "touch made.txt",
        escalated: false,
      },
    ]);
    expect(result.items.map((i) => i.type)).toEqual([
      "userMessage",
      "approval",
      "commandExecution",
      "agentMessage",
    ]);
    expect(result.items[1]).toEqual({
      id: approver.asked[0]?.id,
      type: "approval",
      callId: approver.asked[0]?.callId,
      kind: "command",
      summary: "touch made.txt",
      escalated: false,
      decision: "approved",
    });
    expect(result.items[2]).toMatchObject({ type: "commandExecution", exitCode: 0, status: "completed" });
    expect(existsSync(join(repo.dir, "made.txt"))).toBe(true);
  });

  it("declines the command when denied, tells the model, and leaves the workspace alone", async () => {
    const { server, repo } = harness;
    server.setScenario(touchScenario);
    const { approver, result } = await runApproving("untrusted", "make a file", "denied");

    expect(result.status).toBe("completed");
    expect(approver.asked).toHaveLength(1);
    expect(result.items[1]).toMatchObject({ type: "approval", decision: "denied" });
    expect(result.items[2]).toEqual({
      id: anyId,
      type: "commandExecution",
      command: "touch made.txt",
      cwd: repo.dir.replace(/\/$/, ""),
      aggregatedOutput: "",
      exitCode: null,
      durationMs: 0,
      status: "declined",
    });
    expect(toolOutputs()).toEqual([
      "The user declined to run this command. Do not retry it; find another way or ask the user.",
    ]);
    expect(existsSync(join(repo.dir, "made.txt"))).toBe(false);
  });

  it("ends the turn as interrupted when the approval is aborted, without running the command", async () => {
    const { server, repo } = harness;
    server.setScenario(touchScenario);
    const { result } = await runApproving("untrusted", "make a file", "aborted");

    expect(result.status).toBe("interrupted");
    expect(result.error).toEqual({
      code: "turn_interrupted",
      message: "the turn was aborted at an approval",
      retryable: false,
    });
    expect(result.items.map((i) => i.type)).toEqual(["userMessage", "approval"]);
    expect(result.items[1]).toMatchObject({ type: "approval", decision: "aborted" });
    expect(server.requests).toHaveLength(1);
    expect(existsSync(join(repo.dir, "made.txt"))).toBe(false);
  });

  // BUG: a call whose approval was aborted stays in the history without an output, so the thread's
  // next request carries a function_call with no function_call_output (OpenAI answers 400 "No tool
  // output found for function call …"). The turn should record an output (e.g. "aborted by the user")
  // for every call it leaves unanswered, as closeUnfinished does after a crash.
  it("answers the aborted call in the history so the next turn's request is valid", async () => {
    const { server, kiln, repo } = harness;
    server.setScenario({
      steps: [...touchScenario.steps.slice(0, 1), { output: [{ type: "message", text: "ok" }] }],
    });
    const approver = scriptedApprover("aborted");
    const thread = kiln.startThread({
      cwd: repo.dir,
      approvalPolicy: "untrusted",
      onApproval: approver.onApproval,
    });
    expect((await thread.run("make a file")).status).toBe("interrupted");
    expect((await thread.run("never mind")).status).toBe("completed");
    thread.close();

    const input = requestInput(1);
    const calls = input.filter((i) => i.type === "function_call").map((i) => i.call_id);
    const answered = input.filter((i) => i.type === "function_call_output").map((i) => i.call_id);
    expect(calls).toHaveLength(1);
    expect(answered).toEqual(calls);
  });

  it("does not ask again for the same command once it is approved for the session", async () => {
    const { server, repo } = harness;
    server.setScenario({
      steps: [
        { output: [{ type: "exec_command", cmd: "touch made.txt" }] },
        { output: [{ type: "exec_command", cmd: "touch made.txt" }] },
        { output: [{ type: "exec_command", cmd: "touch other.txt" }] },
        { output: [{ type: "message", text: "done" }] },
      ],
    });
    const { approver, result } = await runApproving(
      "untrusted",
      "make files",
      "approved_for_session",
      "denied",
    );

    expect(approver.asked.map((r) => r.summary)).toEqual(["touch made.txt", "touch other.txt"]);
    expect(
      result.items
        .filter((i) => i.type === "commandExecution")
        .map((i) => ({ command: i.command, status: i.status })),
    ).toEqual([
      { command: "touch made.txt", status: "completed" },
      { command: "touch made.txt", status: "completed" },
      { command: "touch other.txt", status: "declined" },
    ]);
    expect(existsSync(join(repo.dir, "other.txt"))).toBe(false);
  });

  it("runs a read-only command without asking", async () => {
    const { server } = harness;
    server.setScenario({
      steps: [
        { output: [{ type: "exec_command", cmd: "ls" }] },
        { output: [{ type: "message", text: "listed" }] },
      ],
    });
    const { approver, result } = await runApproving("untrusted", "list");

    expect(approver.asked).toEqual([]);
    expect(result.items.map((i) => i.type)).toEqual(["userMessage", "commandExecution", "agentMessage"]);
    expect(result.items[1]).toMatchObject({ command: "ls", exitCode: 0, aggregatedOutput: "a.txt\n" });
  });

  it("shows an approval as an item started pending and completed with the decision, under one id", async () => {
    const { server, kiln, repo } = harness;
    server.setScenario(touchScenario);
    const approver = scriptedApprover("approved");
    const thread = kiln.startThread({
      cwd: repo.dir,
      approvalPolicy: "untrusted",
      onApproval: approver.onApproval,
    });
    const events: ThreadEvent[] = [];
    for await (const { event } of thread.runStreamed("make a file")) events.push(event);
    thread.close();

    const itemEvents = events.flatMap((e) =>
      (e.type === "item/started" || e.type === "item/completed") && e.item.type !== "userMessage"
        ? [{ type: e.type, item: e.item.type }]
        : [],
    );
    expect(itemEvents).toEqual([
      { type: "item/started", item: "approval" },
      { type: "item/completed", item: "approval" },
      { type: "item/started", item: "commandExecution" },
      { type: "item/completed", item: "commandExecution" },
      { type: "item/started", item: "agentMessage" },
      { type: "item/completed", item: "agentMessage" },
    ]);
    const approvals = events.filter(
      (e) => (e.type === "item/started" || e.type === "item/completed") && e.item.type === "approval",
    );
    const asked = {
      id: approver.asked[0]?.id,
      type: "approval",
      callId: approver.asked[0]?.callId,
      kind: "command",
      summary: "touch made.txt",
      escalated: false,
    };
    expect(approvals).toEqual([
      { type: "item/started", item: { ...asked, decision: "pending" } },
      { type: "item/completed", item: { ...asked, decision: "approved" } },
    ]);
  });
});

describe("escalation out of the sandbox", () => {
  it("asks with the proposed prefix rule and does not ask again for a command under an approved prefix", async () => {
    const { server } = harness;
    server.setScenario({
      steps: [
        {
          output: [
            {
              type: "exec_command",
              cmd: "git status",
              sandbox_permissions: "require_escalated",
              justification: "needs the real index",
              prefix_rule: ["git", "status"],
            },
          ],
        },
        {
          output: [
            { type: "exec_command", cmd: "git status --short", sandbox_permissions: "require_escalated" },
          ],
        },
        { output: [{ type: "message", text: "clean" }] },
      ],
    });
    const { approver, result } = await runApproving("on-request", "status", "approved_prefix", "denied");

    expect(approver.asked).toEqual([
      {
        id: anyId,
        kind: "command",
        callId: anyId,
        summary: "git status",
        reason: "needs the real index",
        escalated: true,
        prefixRule: ["git", "status"],
      },
    ]);
    expect(
      result.items
        .filter((i) => i.type === "commandExecution")
        .map((i) => ({ command: i.command, status: i.status })),
    ).toEqual([
      { command: "git status", status: "completed" },
      { command: "git status --short", status: "completed" },
    ]);
  });

  it("declines an escalation under approval policy never without asking", async () => {
    const { server, repo } = harness;
    server.setScenario({
      steps: [
        {
          output: [
            {
              type: "exec_command",
              cmd: "touch escaped.txt",
              sandbox_permissions: "require_escalated",
              justification: "write outside",
            },
          ],
        },
        { output: [{ type: "message", text: "could not" }] },
      ],
    });
    const { approver, result } = await runApproving("never", "escape");

    expect(approver.asked).toEqual([]);
    expect(result.items.map((i) => i.type)).toEqual(["userMessage", "commandExecution", "agentMessage"]);
    expect(result.items[1]).toMatchObject({ command: "touch escaped.txt", status: "declined" });
    expect(toolOutputs()).toEqual([
      "The user declined to run this command outside the sandbox. Do not retry it escalated; find another way or ask the user.",
    ]);
    expect(existsSync(join(repo.dir, "escaped.txt"))).toBe(false);
  });
});
