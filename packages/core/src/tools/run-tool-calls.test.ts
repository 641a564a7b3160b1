import type { HistoryItem, HistoryToolCall } from "@kiln/protocol";
import { describe, expect, it } from "vitest";
import { runToolCalls } from "./run-tool-calls.ts";
import type { Tool, ToolContext } from "./tool.ts";

/** A tool that takes `ms` and records when it ran; read-only unless its args say `write`. */
function timedTool(
  log: { name: string; start: number; end: number }[],
): Tool<{ id: string; write: boolean; ms: number }> {
  return {
    name: "timed",
    spec: { type: "function", name: "timed", description: "test tool", parameters: { type: "object" } },
    parse: (call) => JSON.parse(call.type === "function_call" ? call.arguments : "{}"),
    isMutating: (args) => args.write,
    async execute(args) {
      const start = performance.now();
      await new Promise((r) => setTimeout(r, args.ms));
      log.push({ name: args.id, start, end: performance.now() });
      return `ran ${args.id}`;
    },
  };
}

const call = (id: string, write: boolean, ms = 60): HistoryToolCall => ({
  type: "function_call",
  call_id: `call_${id}`,
  name: "timed",
  arguments: JSON.stringify({ id, write, ms }),
});

describe("runToolCalls", () => {
  it("runs consecutive read-only calls together and each mutating call alone, reporting outputs in call order", async () => {
    const log: { name: string; start: number; end: number }[] = [];
    const tool = timedTool(log);
    const outputs: HistoryItem[] = [];
    await runToolCalls(
      [call("r1", false), call("r2", false), call("w1", true), call("r3", false)],
      new Map([[tool.name, tool as Tool]]),
      () => ({}) as ToolContext,
      (o) => outputs.push(o),
    );
    const at = (n: string) => log.find((l) => l.name === n) ?? { start: 0, end: 0 };
    expect(at("r2").start).toBeLessThan(at("r1").end);
    expect(at("w1").start).toBeGreaterThanOrEqual(Math.max(at("r1").end, at("r2").end));
    expect(at("r3").start).toBeGreaterThanOrEqual(at("w1").end);
    expect(outputs).toEqual([
      { type: "function_call_output", call_id: "call_r1", output: "ran r1" },
      { type: "function_call_output", call_id: "call_r2", output: "ran r2" },
      { type: "function_call_output", call_id: "call_w1", output: "ran w1" },
      { type: "function_call_output", call_id: "call_r3", output: "ran r3" },
    ]);
  });

  it("answers a freeform tool call with a custom_tool_call_output", async () => {
    const outputs: HistoryItem[] = [];
    await runToolCalls(
      [{ type: "custom_tool_call", call_id: "c1", name: "nope", input: "x" }],
      new Map(),
      () => ({}) as ToolContext,
      (o) => outputs.push(o),
    );
    expect(outputs).toEqual([
      {
        type: "custom_tool_call_output",
        call_id: "c1",
        output: 'Error: unknown tool "nope"; available tools: ',
      },
    ]);
  });
});
