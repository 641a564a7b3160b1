import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HistoryItem, HistoryToolCall } from "@kiln/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createHookRunner } from "../hooks/hook-runner.ts";
import { type HookDefinition, HooksConfig } from "../hooks/hooks-config.ts";
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

describe("runToolCalls with hooks", () => {
  let dir: string;

  beforeEach(() => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), "kiln-tool-hooks-")));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** A read-only tool that echoes its `text` and records each call it really ran. */
  function echoTool(ran: string[]): Tool<{ text: string }> {
    return {
      name: "echo",
      spec: { type: "function", name: "echo", description: "test tool", parameters: { type: "object" } },
      parse: (c) => JSON.parse(c.type === "function_call" ? c.arguments : "{}") as { text: string },
      isMutating: () => false,
      async execute(args) {
        ran.push(args.text);
        return `echo: ${args.text}`;
      },
    };
  }

  const echo = (id: string, text: string): HistoryToolCall => ({
    type: "function_call",
    call_id: id,
    name: "echo",
    arguments: JSON.stringify({ text }),
  });

  /** A node hook script in the temp dir, run as argv. */
  function nodeHook(name: string, source: string): HookDefinition {
    const file = join(dir, `${name}.mjs`);
    writeFileSync(file, source);
    return { command: [process.execPath, file] };
  }

  it("never runs a call a pre_tool_use hook blocks, tells the model why, and shows post hooks the other outputs", async () => {
    const seen = join(dir, "post.jsonl");
    const guard = nodeHook(
      "guard",
      `import { readFileSync } from "node:fs";
const input = JSON.parse(readFileSync(0, "utf8"));
if (input.tool_input.text.includes("forbidden")) { console.error("forbidden text"); process.exit(2); }`,
    );
    const post = nodeHook(
      "post",
      `import { appendFileSync, readFileSync } from "node:fs";
appendFileSync(${JSON.stringify(seen)}, readFileSync(0, "utf8"));`,
    );
    const runner = createHookRunner(HooksConfig.parse({ pre_tool_use: [guard], post_tool_use: [post] }), {
      cwd: dir,
      env: { PATH: process.env.PATH },
    });
    const ran: string[] = [];
    const tool = echoTool(ran);
    const outputs: HistoryItem[] = [];
    const warnings: string[] = [];
    const blocked: unknown[] = [];

    await runToolCalls(
      [echo("c1", "hello"), echo("c2", "forbidden word")],
      new Map([[tool.name, tool as Tool]]),
      () => ({ signal: new AbortController().signal }) as ToolContext,
      (o) => outputs.push(o),
      {
        runner,
        threadId: "thr_1",
        turnId: "turn_1",
        cwd: dir,
        onWarning: (w) => warnings.push(w),
        onBlocked: (b) => blocked.push(b),
      },
    );

    expect(ran).toEqual(["hello"]);
    expect(outputs).toEqual([
      { type: "function_call_output", call_id: "c1", output: "echo: hello" },
      { type: "function_call_output", call_id: "c2", output: "Error: blocked by hook: forbidden text" },
    ]);
    expect(blocked).toEqual([
      {
        callId: "c2",
        toolName: "echo",
        reason: "forbidden text",
        hook: `${process.execPath} ${join(dir, "guard.mjs")}`,
      },
    ]);
    expect(warnings).toEqual([]);
    const posts = readFileSync(seen, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as unknown);
    expect(posts).toEqual([
      {
        event: "post_tool_use",
        thread_id: "thr_1",
        turn_id: "turn_1",
        cwd: dir,
        tool_name: "echo",
        tool_input: { text: "hello" },
        tool_output: "echo: hello",
      },
    ]);
  });

  it("reports a failing hook as a warning and still runs the call; calls that did not parse skip the hooks", async () => {
    const runner = createHookRunner(
      HooksConfig.parse({ pre_tool_use: [{ command: "echo broken >&2; exit 3" }] }),
      { cwd: dir, env: { PATH: process.env.PATH } },
    );
    const ran: string[] = [];
    const tool = echoTool(ran);
    const outputs: HistoryItem[] = [];
    const warnings: string[] = [];

    await runToolCalls(
      [echo("c1", "hi"), { type: "function_call", call_id: "c2", name: "missing", arguments: "{}" }],
      new Map([[tool.name, tool as Tool]]),
      () => ({ signal: new AbortController().signal }) as ToolContext,
      (o) => outputs.push(o),
      { runner, threadId: "t", turnId: "u", cwd: dir, onWarning: (w) => warnings.push(w) },
    );

    expect(ran).toEqual(["hi"]);
    expect(outputs).toEqual([
      { type: "function_call_output", call_id: "c1", output: "echo: hi" },
      {
        type: "function_call_output",
        call_id: "c2",
        output: 'Error: unknown tool "missing"; available tools: echo',
      },
    ]);
    expect(warnings).toEqual(["hook `echo broken >&2; exit 3` (pre_tool_use) failed: exit code 3: broken"]);
  });

  it("keeps running read-only calls together and mutating calls alone when hooks are set", async () => {
    const log: { name: string; start: number; end: number }[] = [];
    const tool = timedTool(log);
    const runner = createHookRunner(HooksConfig.parse({}), { cwd: dir, env: {} });

    await runToolCalls(
      [call("r1", false), call("r2", false), call("w1", true)],
      new Map([[tool.name, tool as Tool]]),
      () => ({}) as ToolContext,
      () => {},
      { runner, threadId: "t", turnId: "u", cwd: dir, onWarning: () => {} },
    );

    const at = (n: string) => log.find((l) => l.name === n) ?? { start: 0, end: 0 };
    expect(at("r2").start).toBeLessThan(at("r1").end);
    expect(at("w1").start).toBeGreaterThanOrEqual(Math.max(at("r1").end, at("r2").end));
  });
});
