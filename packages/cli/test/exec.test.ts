import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { loadScenario } from "@kiln/test-support";
import { describe, expect, it } from "vitest";
import { runKiln, useCliHarness } from "./run-kiln.ts";

const scenarios = fileURLToPath(new URL("../../test-support/scenarios/", import.meta.url));

const cli = useCliHarness();
const { requestBody } = cli;

describe("kiln exec --json", () => {
  it("fixes a failing test in a real git repository, inside the sandbox, and prints Codex-compatible events", async () => {
    const { server, home } = cli;
    const files = JSON.parse(await readFile(`${scenarios}fix-failing-test.repo.json`, "utf8")) as Record<
      string,
      string
    >;
    const repo = await cli.tempRepo(files);
    server.setScenario(await loadScenario(`${scenarios}fix-failing-test.json`));
    const run = await runKiln(["exec", "--json", "fix the failing test"], { cwd: repo.dir, env: home.env });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(
      run.events.map((e) =>
        e.type.startsWith("item.") && "item" in e ? `${e.type}:${e.item.type}` : e.type,
      ),
    ).toEqual([
      "thread.started",
      "turn.started",
      "item.completed:reasoning",
      "item.started:command_execution",
      "item.completed:command_execution",
      "item.completed:reasoning",
      "item.started:file_change",
      "item.completed:file_change",
      "item.started:command_execution",
      "item.completed:command_execution",
      "item.completed:agent_message",
      "turn.completed",
    ]);
    const commands = run.events.filter(
      (e) => e.type === "item.completed" && e.item.type === "command_execution",
    );
    expect(
      commands.map((e) =>
        e.type === "item.completed" && e.item.type === "command_execution" ? e.item.exit_code : null,
      ),
    ).toEqual([1, 0]);
    const last = commands[1];
    expect(
      last?.type === "item.completed" &&
        last.item.type === "command_execution" &&
        last.item.aggregated_output,
    ).toContain("all tests passed");
    expect(await readFile(`${repo.dir}/sum.js`, "utf8")).toContain("return a + b;");
    expect(await repo.git("status", "--porcelain")).toBe(" M sum.js\n");

    // The model saw the tool results in the Responses wire shape.
    expect(server.requests).toHaveLength(4);
    const second = requestBody(1);
    const output = second.input.find((i) => i.type === "function_call_output");
    expect(output?.output).toMatch(
      /^Exit code: 1\nWall time: [\d.]+ seconds\nOutput:\n[\s\S]*AssertionError/,
    );
    expect(second.tools.map((t) => `${t.type}:${t.name}`)).toEqual([
      "function:exec_command",
      "function:write_stdin",
      "custom:apply_patch",
      "function:update_plan",
      "function:spawn_agent",
      "function:send_input",
      "function:wait_agent",
      "function:close_agent",
    ]);
    const third = requestBody(2);
    expect(third.input.find((i) => i.type === "custom_tool_call_output")?.output).toBe(
      "Success. Updated the following files:\nM sum.js\n",
    );
    const started = run.events[0];
    expect(started?.type === "thread.started" && started.thread_id).toMatch(/^thr_[0-9A-Z]{26}$/);
  });

  it("sums the usage of every model call in turn.completed", async () => {
    const { server, home } = cli;
    const repo = await cli.tempRepo({ "a.txt": "a\n" });
    server.setScenario({
      steps: [
        {
          output: [{ type: "exec_command", cmd: "ls" }],
          usage: { input_tokens: 100, cached_tokens: 40, output_tokens: 10, reasoning_tokens: 3 },
        },
        {
          output: [{ type: "message", text: "Done." }],
          usage: { input_tokens: 200, cached_tokens: 100, output_tokens: 5 },
        },
      ],
    });
    const run = await runKiln(["exec", "--json", "list files"], { cwd: repo.dir, env: home.env });
    expect(run.code).toBe(0);
    expect(run.events.at(-1)).toEqual({
      type: "turn.completed",
      usage: { input_tokens: 300, cached_input_tokens: 140, output_tokens: 15, reasoning_output_tokens: 3 },
    });
  });
});

describe("model faults", () => {
  const hello = { output: [{ type: "message" as const, text: "Hello." }] };

  it("retries a stream that closes before response.completed and says Reconnecting", async () => {
    const { server, home } = cli;
    const repo = await cli.tempRepo({ "a.txt": "a\n" });
    server.setScenario({ steps: [{ ...hello, fault: { type: "disconnect" } }, hello] });
    const run = await runKiln(["exec", "--json", "hi"], { cwd: repo.dir, env: home.env });
    expect(run.code).toBe(0);
    expect(run.events.filter((e) => e.type === "error")).toEqual([
      { type: "error", message: expect.stringMatching(/^Reconnecting\.\.\. 1\/5 \(/) },
    ]);
    expect(run.events.filter((e) => e.type === "item.completed")).toEqual([
      { type: "item.completed", item: { id: "item_0", type: "agent_message", text: "Hello." } },
    ]);
    expect(server.requests).toHaveLength(2);
  });

  it("waits as long as retry-after says on a 429, then succeeds", async () => {
    const { server, home } = cli;
    const repo = await cli.tempRepo({ "a.txt": "a\n" });
    server.setScenario({ steps: [{ fault: { type: "http", status: 429, retryAfter: 1 } }, hello] });
    const run = await runKiln(["exec", "--json", "hi"], { cwd: repo.dir, env: home.env });
    expect(run.code).toBe(0);
    const [first, second] = server.requests;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect(run.events.some((e) => e.type === "error" && e.message.includes("1/5"))).toBe(true);
  });

  it("fails the turn cleanly after the retries run out on repeated 500s", async () => {
    const { server, home } = cli;
    const repo = await cli.tempRepo({ "a.txt": "a\n" });
    server.setScenario({ steps: [{ fault: { type: "http", status: 500 }, repeat: 6 }] });
    const run = await runKiln(["exec", "--json", "hi"], { cwd: repo.dir, env: home.env });
    expect(run.code).toBe(1);
    expect(server.requests).toHaveLength(6);
    expect(run.events.filter((e) => e.type === "error")).toHaveLength(5);
    expect(run.events.at(-1)).toEqual({
      type: "turn.failed",
      error: { message: expect.stringContaining("HTTP 500") },
    });
  });

  it("retries a response.failed with a server_error code, then fails the turn with its message", async () => {
    const { server, home } = cli;
    const repo = await cli.tempRepo({ "a.txt": "a\n" });
    server.setScenario({
      steps: [{ fault: { type: "response_failed", message: "the model overloaded" }, repeat: 6 }],
    });
    const run = await runKiln(["exec", "--json", "hi"], { cwd: repo.dir, env: home.env });
    expect(run.code).toBe(1);
    expect(server.requests).toHaveLength(6);
    expect(run.events.at(-1)).toEqual({
      type: "turn.failed",
      error: { message: expect.stringContaining("the model overloaded") },
    });
  });

  it("does not retry a request the provider rejects (HTTP 400)", async () => {
    const { server, home } = cli;
    const repo = await cli.tempRepo({ "a.txt": "a\n" });
    server.setScenario({
      steps: [
        {
          fault: {
            type: "http",
            status: 400,
            body: { error: { message: "bad tool schema", type: "invalid_request_error" } },
          },
        },
      ],
    });
    const run = await runKiln(["exec", "--json", "hi"], { cwd: repo.dir, env: home.env });
    expect(run.code).toBe(1);
    expect(server.requests).toHaveLength(1);
    expect(run.events.at(-1)).toEqual({
      type: "turn.failed",
      error: { message: "the model provider rejected the request (HTTP 400): bad tool schema" },
    });
  });

  it("still completes when every chunk arrives slowly", async () => {
    const { server, home } = cli;
    const repo = await cli.tempRepo({ "a.txt": "a\n" });
    server.setScenario({ steps: [{ ...hello, chunkDelayMs: 30 }] });
    const run = await runKiln(["exec", "--json", "hi"], { cwd: repo.dir, env: home.env });
    expect(run.code).toBe(0);
    expect(run.events.at(-2)).toEqual({
      type: "item.completed",
      item: { id: "item_0", type: "agent_message", text: "Hello." },
    });
  });
});
