// The agent loop's limits through the embedding API, against the fake model server and the real
// sandbox: max_turn_tokens, [prices] and max_thread_cost, and the repeated-failure stop.
import type { ThreadEvent } from "@kiln/protocol";
import type { ScenarioStep } from "@kiln/test-support";
import { describe, expect, it } from "vitest";
import { useKilnHarness } from "./harness.ts";

const harness = useKilnHarness();
const { kilnWith, requestInput } = harness;

/**
 * `gpt-test` at $1 per 1M input tokens and $2 per 1M output tokens, in $KILN_HOME/config.toml. Its
 * context window is made huge so the round-dollar token counts below do not trigger compaction.
 */
function writePricedConfig(): Promise<void> {
  return harness.writeConfig(
    'model = "gpt-test"\nmodel_context_window = 100000000\n\n[prices."gpt-test"]\ninput = 1.0\noutput = 2.0\n',
  );
}

function command(cmd: string, input_tokens: number, output_tokens: number): ScenarioStep {
  return { output: [{ type: "exec_command", cmd }], usage: { input_tokens, output_tokens } };
}

function answer(text: string, input_tokens: number, output_tokens: number): ScenarioStep {
  return { output: [{ type: "message", text }], usage: { input_tokens, output_tokens } };
}

const usage = (inputTokens: number, outputTokens: number) => ({
  inputTokens,
  cachedInputTokens: 0,
  outputTokens,
  reasoningOutputTokens: 0,
  totalTokens: inputTokens + outputTokens,
});

describe("max_turn_tokens", () => {
  it("fails the turn with budget_exceeded once its model calls pass the limit", async () => {
    const { server, repo } = harness;
    server.setScenario({
      steps: [
        command("echo one", 100, 20),
        command("echo two", 100, 20),
        answer("should not get here", 100, 20),
      ],
    });
    const thread = kilnWith("max_turn_tokens=150").startThread({ cwd: repo.dir, approvalPolicy: "never" });
    const result = await thread.run("count");
    thread.close();

    expect(result.status).toBe("failed");
    expect(result.error).toEqual({
      code: "budget_exceeded",
      message:
        "this turn used 240 tokens, over max_turn_tokens = 150: raise it (-c max_turn_tokens=…) or split the task",
      retryable: false,
      details: { used: 240, limit: 150 },
    });
    expect(result.usage).toEqual(usage(200, 40));
    expect(server.requests).toHaveLength(2);
    // The call the model made in the step that went over is not run.
    expect(result.items.filter((i) => i.type === "commandExecution").map((i) => i.command)).toEqual([
      "echo one",
    ]);
  });

  // BUG: the step that goes over the budget has its tool call committed to the history, but the turn
  // stops before running it and records no output for it. The thread's next request then carries a
  // function_call without a function_call_output, which the Responses API rejects (400 "No tool output
  // found for function call …"): one budget stop breaks the thread for good.
  it("leaves a history the next turn can send: every call of the stopped turn has an output", async () => {
    const { server, repo } = harness;
    server.setScenario({
      steps: [command("echo one", 100, 20), command("echo two", 100, 20), answer("ok", 100, 20)],
    });
    const thread = kilnWith("max_turn_tokens=150").startThread({ cwd: repo.dir, approvalPolicy: "never" });
    expect((await thread.run("count")).status).toBe("failed");
    expect((await thread.run("stop counting")).status).toBe("completed");
    thread.close();

    const input = requestInput(2);
    const calls = input.filter((i) => i.type === "function_call").map((i) => i.call_id);
    const answered = input.filter((i) => i.type === "function_call_output").map((i) => i.call_id);
    expect(calls).toHaveLength(2);
    expect(answered).toEqual(calls);
  });
});

describe("prices and max_thread_cost", () => {
  it("prices every model call in usage/updated events from [prices] (USD per million tokens)", async () => {
    const { server, repo } = harness;
    await writePricedConfig();
    server.setScenario({
      steps: [command("echo hi", 250_000, 125_000), answer("done", 500_000, 250_000)],
    });
    const thread = kilnWith().startThread({ cwd: repo.dir, approvalPolicy: "never" });
    const updates: ThreadEvent[] = [];
    for await (const { event } of thread.runStreamed("go")) {
      if (event.type === "usage/updated") updates.push(event);
    }
    thread.close();

    expect(updates).toEqual([
      {
        type: "usage/updated",
        call: usage(250_000, 125_000),
        turn: usage(250_000, 125_000),
        cost: { callUsd: 0.5, turnUsd: 0.5, threadUsd: 0.5 },
      },
      {
        type: "usage/updated",
        call: usage(500_000, 250_000),
        turn: usage(750_000, 375_000),
        cost: { callUsd: 1, turnUsd: 1.5, threadUsd: 1.5 },
      },
    ]);
  });

  it("prices cached input at the input price when no cached_input price is set", async () => {
    const { server, repo } = harness;
    await writePricedConfig();
    server.setScenario({
      steps: [
        {
          ...answer("done", 500_000, 0),
          usage: { input_tokens: 500_000, cached_tokens: 250_000, output_tokens: 0 },
        },
      ],
    });
    const thread = kilnWith().startThread({ cwd: repo.dir, approvalPolicy: "never" });
    const costs: unknown[] = [];
    for await (const { event } of thread.runStreamed("go")) {
      if (event.type === "usage/updated") costs.push(event.cost);
    }
    thread.close();
    expect(costs).toEqual([{ callUsd: 0.5, turnUsd: 0.5, threadUsd: 0.5 }]);
  });

  it("stops a later turn with budget_exceeded once the thread's cost passes max_thread_cost", async () => {
    const { server, repo } = harness;
    await writePricedConfig();
    server.setScenario({
      steps: [
        answer("first", 250_000, 125_000),
        answer("second", 250_000, 125_000),
        answer("third", 250_000, 125_000),
      ],
    });
    const thread = kilnWith("max_thread_cost=0.75").startThread({ cwd: repo.dir, approvalPolicy: "never" });
    const first = await thread.run("one");
    const second = await thread.run("two");
    thread.close();

    expect(first.status).toBe("completed");
    expect(second.status).toBe("failed");
    expect(second.error).toEqual({
      code: "budget_exceeded",
      message:
        "this thread has cost $1.0000, over max_thread_cost = $0.75: raise it (-c max_thread_cost=…) to go on",
      retryable: false,
      details: { costUsd: 1, limit: 0.75 },
    });
  });

  // BUG: max_thread_cost is only checked after a model call, so every turn started on a thread that is
  // already over its budget still pays for one model call before it fails. A turn should be refused
  // before calling the model once the thread's cost has passed the limit.
  it("makes no further model call on a thread already over max_thread_cost", async () => {
    const { server, repo } = harness;
    await writePricedConfig();
    server.setScenario({
      steps: [answer("first", 500_000, 250_000), answer("second", 500_000, 250_000)],
    });
    const thread = kilnWith("max_thread_cost=0.75").startThread({ cwd: repo.dir, approvalPolicy: "never" });
    const first = await thread.run("one");
    const second = await thread.run("two");
    thread.close();

    expect(first.error?.code).toBe("budget_exceeded");
    expect(second.error?.code).toBe("budget_exceeded");
    expect(server.requests).toHaveLength(1);
  });
});

describe("the repeated-failure stop", () => {
  const falseThrice = [
    command("false", 10, 5),
    command("false", 10, 5),
    command("false", 10, 5),
    answer("gave up", 10, 5),
  ];

  it("stops the turn when the same call fails three times in a row", async () => {
    const { server, repo } = harness;
    server.setScenario({ steps: falseThrice });
    const thread = kilnWith().startThread({ cwd: repo.dir, approvalPolicy: "never" });
    const result = await thread.run("try");
    thread.close();

    expect(result.status).toBe("failed");
    expect(result.error).toEqual({
      code: "tool_error",
      message:
        "stopped: the model made the same failing exec_command call 3 times in a row. Look at the last error, then tell the agent how to proceed (or raise repeated_failure_limit).",
      retryable: false,
      details: { tool: "exec_command", count: 3 },
    });
    expect(
      result.items
        .filter((i) => i.type === "commandExecution")
        .map((i) => ({ command: i.command, exitCode: i.exitCode, status: i.status })),
    ).toEqual(Array(3).fill({ command: "false", exitCode: 1, status: "failed" }));
    expect(server.requests).toHaveLength(3);
  });

  it("does not stop when the same call succeeds in between", async () => {
    const { server, repo } = harness;
    server.setScenario({
      steps: [
        command("test -f fixed.txt", 10, 5),
        command("test -f fixed.txt", 10, 5),
        command("touch fixed.txt", 10, 5),
        command("test -f fixed.txt", 10, 5),
        command("rm fixed.txt", 10, 5),
        command("test -f fixed.txt", 10, 5),
        answer("done", 10, 5),
      ],
    });
    const thread = kilnWith().startThread({ cwd: repo.dir, approvalPolicy: "never" });
    const result = await thread.run("try");
    thread.close();
    expect(result.status).toBe("completed");
    expect(server.requests).toHaveLength(7);
  });

  // BUG: the streak of a failing call is reset only when that same call succeeds, not when the agent
  // does anything else in between, so the ordinary fix loop "run the tests (fail) → patch → run the
  // tests (fail) → patch → run the tests (fail)" is stopped as "the same failing call 3 times in a
  // row" although the agent changed the code between the runs. "In a row" should mean consecutive.
  it("does not stop a test-fix loop whose test run fails between successful patches", async () => {
    const { server, repo } = harness;
    const patch = (n: number): ScenarioStep => ({
      output: [
        { type: "apply_patch", patch: `*** Begin Patch\n*** Add File: fix${n}.txt\n+${n}\n*** End Patch\n` },
      ],
      usage: { input_tokens: 10, output_tokens: 5 },
    });
    server.setScenario({
      steps: [
        command("false", 10, 5),
        patch(1),
        command("false", 10, 5),
        patch(2),
        command("false", 10, 5),
        answer("still failing, here is what I tried", 10, 5),
      ],
    });
    const thread = kilnWith().startThread({ cwd: repo.dir, approvalPolicy: "never" });
    const result = await thread.run("make the tests pass");
    thread.close();
    expect(result.error).toBeUndefined();
    expect(result.status).toBe("completed");
    expect(server.requests).toHaveLength(6);
  });

  it("never stops with repeated_failure_limit=0", async () => {
    const { server, repo } = harness;
    server.setScenario({ steps: falseThrice });
    const thread = kilnWith("repeated_failure_limit=0").startThread({
      cwd: repo.dir,
      approvalPolicy: "never",
    });
    const result = await thread.run("try");
    thread.close();

    expect(result.status).toBe("completed");
    expect(result.finalResponse).toBe("gave up");
    expect(result.items.filter((i) => i.type === "commandExecution")).toHaveLength(3);
    expect(server.requests).toHaveLength(4);
  });
});
