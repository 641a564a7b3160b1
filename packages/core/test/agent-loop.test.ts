// The agent loop through the embedding API (`new Kiln()`), against the fake model server at the wire
// level and the real bubblewrap sandbox.
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useKilnHarness } from "./harness.ts";

const harness = useKilnHarness();
const { lastToolOutput, requestBody } = harness;

describe("the agent loop", () => {
  it("returns items, the final response and usage from thread.run", async () => {
    const { server, kiln, repo } = harness;
    server.setScenario({
      steps: [
        {
          output: [{ type: "exec_command", cmd: "cat a.txt" }],
          usage: { input_tokens: 10, output_tokens: 2 },
        },
        {
          output: [{ type: "message", text: "It says alpha." }],
          usage: { input_tokens: 20, output_tokens: 4 },
        },
      ],
    });
    const thread = kiln.startThread({ cwd: repo.dir, approvalPolicy: "never" });
    const result = await thread.run("read a.txt");
    thread.close();
    expect(result.status).toBe("completed");
    expect(result.finalResponse).toBe("It says alpha.");
    expect(result.usage).toEqual({
      inputTokens: 30,
      cachedInputTokens: 0,
      outputTokens: 6,
      reasoningOutputTokens: 0,
      totalTokens: 36,
    });
    expect(result.items.map((i) => i.type)).toEqual(["userMessage", "commandExecution", "agentMessage"]);
    expect(result.items[1]).toMatchObject({
      command: "cat a.txt",
      exitCode: 0,
      status: "completed",
      aggregatedOutput: "alpha\n",
    });
  });

  it("numbers a thread's events from 1 without gaps and journals them in the rollout", async () => {
    const { server, kiln, repo } = harness;
    server.setScenario({
      steps: [
        { output: [{ type: "exec_command", cmd: "echo hi" }] },
        { output: [{ type: "message", text: "ok" }] },
      ],
    });
    const thread = kiln.startThread({ cwd: repo.dir, approvalPolicy: "never" });
    const seqs: number[] = [];
    for await (const envelope of thread.runStreamed("go")) seqs.push(envelope.seq);
    thread.close();
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    const lines = (await readFile(thread.rolloutPath, "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { kind: string; payload: { seq?: number } });
    expect(lines[0]?.kind).toBe("thread");
    expect(lines.filter((l) => l.kind === "event").map((l) => l.payload.seq)).toEqual(seqs);
  });

  it("keeps the head and tail of output longer than max_output_tokens", async () => {
    const { server, kiln, repo } = harness;
    server.setScenario({
      steps: [
        { output: [{ type: "exec_command", cmd: "seq 1 20000", max_output_tokens: 40 }] },
        { output: [{ type: "message", text: "done" }] },
      ],
    });
    const thread = kiln.startThread({ cwd: repo.dir, approvalPolicy: "never" });
    await thread.run("count");
    thread.close();
    const output = lastToolOutput();
    expect(output).toMatch(/^Exit code: 0\nWall time: [\d.]+ seconds\nOutput:\n1\n2\n3\n/);
    expect(output).toMatch(/…\d+ tokens truncated…/);
    expect(output).toMatch(/19999\n20000\n$/);
    expect(output.length).toBeLessThan(400);
  });

  it("kills a command after timeout_ms and says so", async () => {
    const { server, kiln, repo } = harness;
    server.setScenario({
      steps: [
        {
          output: [
            {
              type: "function_call",
              name: "exec_command",
              arguments: { cmd: "echo start; sleep 20", timeout_ms: 300 },
            },
          ],
        },
        { output: [{ type: "message", text: "too slow" }] },
      ],
    });
    const thread = kiln.startThread({ cwd: repo.dir, approvalPolicy: "never" });
    const started = Date.now();
    await thread.run("wait");
    thread.close();
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(lastToolOutput()).toMatch(/start\n[\s\S]*command timed out after 300 ms and was killed/);
  });

  it("runs a command in workdir and tells the model when workdir does not exist", async () => {
    const { server, kiln, repo } = harness;
    await repo.git("checkout", "-q", "-b", "work");
    const { mkdir } = await import("node:fs/promises");
    await mkdir(join(repo.dir, "sub"));
    server.setScenario({
      steps: [
        { output: [{ type: "exec_command", cmd: "pwd", workdir: "sub" }] },
        { output: [{ type: "exec_command", cmd: "pwd", workdir: "missing" }] },
        { output: [{ type: "message", text: "ok" }] },
      ],
    });
    const thread = kiln.startThread({ cwd: repo.dir, approvalPolicy: "never" });
    const result = await thread.run("where");
    thread.close();
    expect(result.items[1]).toMatchObject({
      type: "commandExecution",
      aggregatedOutput: `${join(repo.dir, "sub")}\n`,
    });
    expect(lastToolOutput()).toBe(
      `Error: workdir does not exist or is not a directory: ${join(repo.dir, "missing")}`,
    );
  });

  it("tells the model about unknown tools and malformed arguments instead of failing the turn", async () => {
    const { server, kiln, repo } = harness;
    server.setScenario({
      steps: [
        {
          output: [
            { type: "function_call", name: "launch_rockets", arguments: {} },
            { type: "function_call", name: "exec_command", arguments: { command: "ls" } },
            { type: "function_call", name: "update_plan", arguments: "{not json" },
          ],
        },
        { output: [{ type: "message", text: "sorry" }] },
      ],
    });
    const thread = kiln.startThread({ cwd: repo.dir, approvalPolicy: "never" });
    const result = await thread.run("do it");
    thread.close();
    expect(result.status).toBe("completed");
    const body = requestBody(-1);
    expect(body.input.filter((i) => i.type === "function_call_output").map((i) => i.output)).toEqual([
      'Error: unknown tool "launch_rockets"; available tools: exec_command, write_stdin, apply_patch, update_plan, spawn_agent, send_input, wait_agent, close_agent',
      'Error: invalid arguments for exec_command at "cmd": Invalid input: expected string, received undefined',
      "Error: failed to parse function arguments for update_plan: not valid JSON",
    ]);
  });

  it("stops a running command and ends the turn as interrupted on interrupt()", async () => {
    const { server, kiln, repo } = harness;
    server.setScenario({
      steps: [{ output: [{ type: "exec_command", cmd: "sleep 30", yield_time_ms: 60_000 }] }],
    });
    const thread = kiln.startThread({ cwd: repo.dir, approvalPolicy: "never" });
    const started = Date.now();
    const events: string[] = [];
    for await (const { event } of thread.runStreamed("wait forever")) {
      events.push(event.type);
      if (event.type === "item/started" && event.item.type === "commandExecution") thread.interrupt();
      if (event.type === "turn/completed") expect(event.status).toBe("interrupted");
    }
    thread.close();
    expect(events.at(-1)).toBe("turn/completed");
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("ends the turn as interrupted, not failed, when interrupted while the model is still streaming", async () => {
    const { server, kiln, repo } = harness;
    server.setScenario({
      steps: [
        {
          output: [{ type: "message", text: "a long answer that streams slowly ".repeat(20) }],
          chunkDelayMs: 50,
        },
      ],
    });
    const thread = kiln.startThread({ cwd: repo.dir, approvalPolicy: "never" });
    let end: { status: string; error?: { code: string } } | undefined;
    for await (const { event } of thread.runStreamed("talk")) {
      if (event.type === "item/agentMessage/delta") thread.interrupt();
      if (event.type === "turn/completed") end = event;
    }
    thread.close();
    expect(end).toMatchObject({ status: "interrupted", error: { code: "turn_interrupted" } });
  });

  it("cannot write in a read-only sandbox: commands fail and patches are declined under approval policy never", async () => {
    const { server, kiln, repo } = harness;
    server.setScenario({
      steps: [
        { output: [{ type: "exec_command", cmd: "echo x > b.txt" }] },
        {
          output: [
            { type: "apply_patch", patch: "*** Begin Patch\n*** Add File: c.txt\n+c\n*** End Patch\n" },
          ],
        },
        { output: [{ type: "message", text: "read-only" }] },
      ],
    });
    const thread = kiln.startThread({ cwd: repo.dir, sandbox: "read-only", approvalPolicy: "never" });
    const result = await thread.run("write");
    thread.close();
    expect(result.items[1]).toMatchObject({ type: "commandExecution", status: "failed" });
    expect(result.items[2]).toMatchObject({ type: "fileChange", status: "declined" });
    expect(lastToolOutput()).toMatch(/^The patch was not applied: the sandbox is read-only/);
    expect(await repo.git("status", "--porcelain")).toBe("");
  });
});

describe("approval policy on-failure", () => {
  it("offers to re-run a command that the sandbox blocked outside it, and runs it there when approved", async () => {
    const { server, kiln, repo } = harness;
    const { mkdtemp } = await import("node:fs/promises");
    // Under /usr: mounted read-only in the sandbox, so the write fails with "Read-only file system".
    const outside = await mkdtemp("/usr/local/kiln-onfailure-");
    try {
      server.setScenario({
        steps: [
          { output: [{ type: "exec_command", cmd: `echo made > ${outside}/x.txt` }] },
          { output: [{ type: "message", text: "done" }] },
        ],
      });
      const asked: string[] = [];
      const thread = kiln.startThread({
        cwd: repo.dir,
        approvalPolicy: "on-failure",
        onApproval: async (request) => {
          asked.push(`${request.summary} | ${request.reason}`);
          return "approved" as const;
        },
      });
      await thread.run("write outside");
      thread.close();
      expect(asked).toEqual([
        expect.stringMatching(
          /x\.txt \| it failed in the sandbox: .*(Read-only|Permission denied|No such file)/,
        ),
      ]);
      expect(await readFile(join(outside, "x.txt"), "utf8")).toBe("made\n");
      expect(lastToolOutput()).toMatch(/^Exit code: 0/);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });
});

describe("apply_patch shape per model", () => {
  it("offers apply_patch as a function with one input string to models not trained for the freeform tool", async () => {
    const { server, kiln, repo } = harness;
    server.setScenario({
      steps: [
        {
          output: [
            {
              type: "function_call",
              name: "apply_patch",
              arguments: { input: "*** Begin Patch\n*** Add File: b.txt\n+beta\n*** End Patch\n" },
            },
          ],
        },
        { output: [{ type: "message", text: "added" }] },
      ],
    });
    const thread = kiln.startThread({ cwd: repo.dir, approvalPolicy: "never", model: "gpt-4.1" });
    await thread.run("add b.txt");
    thread.close();
    const body = server.requests[0]?.body as { tools: { type: string; name: string }[] };
    const tools = body.tools;
    expect(tools.find((t) => t.name === "apply_patch")?.type).toBe("function");
    expect(await readFile(join(repo.dir, "b.txt"), "utf8")).toBe("beta\n");
    expect(harness.lastToolOutput()).toBe("Success. Updated the following files:\nA b.txt\n");
  });
});
