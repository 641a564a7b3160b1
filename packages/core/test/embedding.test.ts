// The embedding API beyond run(): dynamic tools (zod or JSON Schema), steering a running turn,
// forking at a turn, and resuming by id — against the fake model server and the real sandbox.
import { readFile } from "node:fs/promises";
import type { DynamicToolDefinition } from "@kiln/core";
import type { ThreadEvent } from "@kiln/protocol";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { useKilnHarness } from "./harness.ts";

const harness = useKilnHarness();
const { requestBody: request, toolOutputs, messages } = harness;

/** A zod-typed weather tool that records the arguments it ran with. */
function weatherTool() {
  const ran: unknown[] = [];
  const tool: DynamicToolDefinition = {
    name: "lookup_weather",
    description: "The current weather in a city.",
    parameters: z.object({ city: z.string() }),
    execute: async (args: { city: string }) => {
      ran.push(args);
      if (args.city === "Atlantis") throw new Error("no such city");
      return { city: args.city, temp: 21 };
    },
  };
  return { ran, tool };
}

describe("dynamic tools", () => {
  it("offers a zod-defined tool as JSON Schema, runs it with the parsed arguments and returns its JSON", async () => {
    const { server, kiln, repo } = harness;
    server.setScenario({
      steps: [
        { output: [{ type: "function_call", name: "lookup_weather", arguments: { city: "Paris" } }] },
        { output: [{ type: "message", text: "21 degrees in Paris." }] },
      ],
    });
    const { ran, tool } = weatherTool();
    const thread = kiln.startThread({ cwd: repo.dir, approvalPolicy: "never", tools: [tool] });
    const events: ThreadEvent[] = [];
    for await (const { event } of thread.runStreamed("weather in Paris?")) events.push(event);
    thread.close();

    expect(request(0).tools.find((t) => t.name === "lookup_weather")).toEqual({
      type: "function",
      name: "lookup_weather",
      description: "The current weather in a city.",
      parameters: {
        type: "object",
        properties: { city: { type: "string" } },
        required: ["city"],
        additionalProperties: false,
      },
    });
    expect(ran).toEqual([{ city: "Paris" }]);
    expect(toolOutputs(1)).toEqual(['{"city":"Paris","temp":21}']);
    const toolCallEvents = events.filter(
      (e) => (e.type === "item/started" || e.type === "item/completed") && e.item.type === "toolCall",
    );
    const item = {
      id: expect.any(String),
      type: "toolCall",
      tool: "lookup_weather",
      arguments: { city: "Paris" },
    };
    expect(toolCallEvents).toEqual([
      { type: "item/started", item: { ...item, status: "in_progress" } },
      {
        type: "item/completed",
        item: { ...item, output: '{"city":"Paris","temp":21}', status: "completed" },
      },
    ]);
    expect(events.at(-1)).toMatchObject({ type: "turn/completed", status: "completed" });
  });

  it("tells the model about bad arguments without running the tool, and about a tool that throws", async () => {
    const { server, kiln, repo } = harness;
    server.setScenario({
      steps: [
        {
          output: [
            { type: "function_call", name: "lookup_weather", arguments: { city: 3 } },
            { type: "function_call", name: "lookup_weather", arguments: { city: "Atlantis" } },
          ],
        },
        { output: [{ type: "message", text: "sorry" }] },
      ],
    });
    const { ran, tool } = weatherTool();
    const thread = kiln.startThread({ cwd: repo.dir, approvalPolicy: "never", tools: [tool] });
    const result = await thread.run("weather?");
    thread.close();

    expect(ran).toEqual([{ city: "Atlantis" }]);
    expect(toolOutputs(1)).toEqual([
      'Error: invalid arguments for lookup_weather at "city": Invalid input: expected string, received number',
      "Error: lookup_weather failed: no such city",
    ]);
    expect(result.items.filter((i) => i.type === "toolCall")).toEqual([
      {
        id: expect.any(String),
        type: "toolCall",
        tool: "lookup_weather",
        arguments: { city: "Atlantis" },
        output: "no such city",
        status: "failed",
      },
    ]);
  });

  it("validates a JSON-Schema-defined tool's arguments and passes a string result through", async () => {
    const { server, kiln, repo } = harness;
    server.setScenario({
      steps: [
        {
          output: [
            { type: "function_call", name: "add", arguments: { a: 2, b: 3 } },
            { type: "function_call", name: "add", arguments: { a: "two" } },
          ],
        },
        { output: [{ type: "message", text: "5" }] },
      ],
    });
    const ran: unknown[] = [];
    const parameters = {
      type: "object",
      properties: { a: { type: "number" }, b: { type: "number" } },
      required: ["a", "b"],
      additionalProperties: false,
    };
    const thread = kiln.startThread({
      cwd: repo.dir,
      approvalPolicy: "never",
      tools: [
        {
          name: "add",
          description: "Adds two numbers.",
          parameters,
          readOnly: true,
          execute: (args: { a: number; b: number }) => {
            ran.push(args);
            return String(args.a + args.b);
          },
        },
      ],
    });
    const result = await thread.run("2 + 3?");
    thread.close();

    expect(request(0).tools.find((t) => t.name === "add")).toEqual({
      type: "function",
      name: "add",
      description: "Adds two numbers.",
      parameters,
    });
    expect(ran).toEqual([{ a: 2, b: 3 }]);
    expect(toolOutputs(1)).toEqual([
      "5",
      "Error: invalid arguments for add: arguments must have required property 'b', arguments/a must be number",
    ]);
    expect(result.status).toBe("completed");
  });

  it("refuses a tool whose name a built-in tool has", () => {
    const { kiln, repo } = harness;
    const { tool } = weatherTool();
    expect(() => kiln.startThread({ cwd: repo.dir, tools: [{ ...tool, name: "exec_command" }] })).toThrow(
      'tool name "exec_command" is taken by a built-in tool',
    );
  });
});

describe("steering", () => {
  it("gives input sent with steer() to the model at its next step of the running turn", async () => {
    const { server, kiln, repo } = harness;
    server.setScenario({
      steps: [
        { output: [{ type: "exec_command", cmd: "sleep 0.3" }] },
        { output: [{ type: "message", text: "Checked Rome too." }] },
      ],
    });
    const thread = kiln.startThread({ cwd: repo.dir, approvalPolicy: "never" });
    const users: string[] = [];
    let steered = false;
    for await (const { event } of thread.runStreamed("check Paris")) {
      if (event.type === "item/started" && event.item.type === "commandExecution" && !steered) {
        steered = true;
        thread.steer("also check Rome");
      }
      if (event.type === "item/completed" && event.item.type === "userMessage") {
        users.push(event.item.content.map((p) => (p.type === "text" ? p.text : "")).join(""));
      }
    }
    thread.close();

    expect(users).toEqual(["check Paris", "also check Rome"]);
    expect(request(1).input.at(-1)).toEqual({
      type: "message",
      role: "user",
      content: [{ type: "input_text", text: "also check Rome" }],
    });
    expect(request(1).input.at(-2)?.type).toBe("function_call_output");
    expect(messages(0, "user")).not.toContain("also check Rome");
  });

  // BUG: steer() accepts input while the model streams its final answer, but the turn then ends
  // without another model step and stream() clears the steering queue: the user's message is
  // silently lost (not in the history, no userMessage item, not in the next turn). A turn with pending
  // steering input should take one more step so the model sees it.
  it("does not lose input steered while the model writes its final answer", async () => {
    const { server, kiln, repo } = harness;
    server.setScenario({
      steps: [
        { output: [{ type: "message", text: "Paris is sunny, and that is all." }], chunkDelayMs: 30 },
        { output: [{ type: "message", text: "Rome is sunny too." }] },
      ],
    });
    const thread = kiln.startThread({ cwd: repo.dir, approvalPolicy: "never" });
    let steered = false;
    for await (const { event } of thread.runStreamed("check Paris")) {
      if (event.type === "item/started" && event.item.type === "agentMessage" && !steered) {
        steered = true;
        thread.steer("also check Rome");
      }
    }
    thread.close();

    expect(steered).toBe(true);
    expect(server.requests).toHaveLength(2);
    expect(messages(1, "user").at(-1)).toBe("also check Rome");
  });

  it("refuses steer() when no turn is running", () => {
    const { kiln, repo } = harness;
    const thread = kiln.startThread({ cwd: repo.dir, approvalPolicy: "never" });
    expect(() => thread.steer("hello?")).toThrow(`thread ${thread.id} has no running turn to steer`);
    thread.close();
  });
});

describe("forking and resuming", () => {
  it("forks a thread at a turn: the fork has that turn's history, a new id and its parent recorded", async () => {
    const { server, kiln, repo } = harness;
    server.setScenario({
      steps: [
        { output: [{ type: "message", text: "one" }] },
        { output: [{ type: "message", text: "two" }] },
        { output: [{ type: "message", text: "three" }] },
      ],
    });
    const thread = kiln.startThread({ cwd: repo.dir, approvalPolicy: "never" });
    await thread.run("first prompt");
    await thread.run("second prompt");
    thread.close();

    const fork = kiln.forkThread(thread.id, { atTurn: 1 });
    const result = await fork.run("third prompt");
    fork.close();

    expect(result.finalResponse).toBe("three");
    expect(fork.id).not.toBe(thread.id);
    expect(messages(2, "user").slice(-2)).toEqual(["first prompt", "third prompt"]);
    expect(messages(2, "assistant")).toEqual(["one"]);
    expect(JSON.stringify(request(2))).not.toContain("second prompt");
    const firstLine = JSON.parse((await readFile(fork.rolloutPath, "utf8")).split("\n")[0] ?? "") as {
      kind: string;
      payload: { id: string; parentThreadId?: string };
    };
    expect(firstLine).toMatchObject({ kind: "thread", payload: { id: fork.id, parentThreadId: thread.id } });
    expect(fork.info.parentThreadId).toBe(thread.id);
  });

  it("resumes a thread by id with its history, continuing its event numbering", async () => {
    const { server, kiln, repo } = harness;
    server.setScenario({
      steps: [
        { output: [{ type: "message", text: "Noted: 42." }] },
        { output: [{ type: "message", text: "It was 42." }] },
      ],
    });
    const thread = kiln.startThread({ cwd: repo.dir, approvalPolicy: "never" });
    const firstSeqs: number[] = [];
    for await (const { seq } of thread.runStreamed("remember 42")) firstSeqs.push(seq);
    thread.close();

    const resumed = kiln.resumeThread(thread.id);
    const secondSeqs: number[] = [];
    let finalResponse = "";
    for await (const { seq, event } of resumed.runStreamed("what number?")) {
      secondSeqs.push(seq);
      if (event.type === "item/completed" && event.item.type === "agentMessage")
        finalResponse = event.item.text;
    }
    resumed.close();

    expect(resumed.id).toBe(thread.id);
    expect(finalResponse).toBe("It was 42.");
    expect(messages(1, "user").slice(-2)).toEqual(["remember 42", "what number?"]);
    expect(messages(1, "assistant")).toEqual(["Noted: 42."]);
    expect(secondSeqs[0]).toBe((firstSeqs.at(-1) ?? 0) + 1);
  });
});
