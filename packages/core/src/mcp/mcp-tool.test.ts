// MCP tools through the Kiln Tool interface, against the real stdio fixture server.
import type { ApprovalPolicy, ThreadEvent } from "@kiln/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { echoServerTable, functionCall, recordingContext } from "../../test/mcp-harness.ts";
import type { ApprovalDecision, Tool } from "../tools/tool.ts";
import { ToolError } from "../tools/tool.ts";
import { parseMcpServers } from "./mcp-config.ts";
import { connectMcpServers, type McpConnections } from "./mcp-connections.ts";
import { mcpToolName } from "./mcp-tool.ts";

let connections: McpConnections;

async function start(table: Record<string, unknown> = {}): Promise<McpConnections> {
  const warnings: string[] = [];
  const started = await connectMcpServers(parseMcpServers({ echo_srv: echoServerTable(table) }), {
    env: { PATH: process.env.PATH },
    cwd: process.cwd(),
    onWarning: (message) => warnings.push(message),
  });
  expect(warnings).toEqual([]);
  return started;
}

beforeAll(async () => {
  connections = await start({ tool_timeout_sec: 0.5 });
});

afterAll(async () => {
  await connections.close();
});

function tool(name: string, from: McpConnections = connections): Tool {
  const found = from.tools().find((t) => t.name === `echo_srv__${name}`);
  if (found === undefined) throw new Error(`no tool ${name}`);
  return found;
}

/** Runs one call as the agent loop does; returns the output, the events and the approval requests. */
async function run(
  name: string,
  args: unknown,
  options: {
    approvalPolicy?: ApprovalPolicy;
    decision?: ApprovalDecision;
    signal?: AbortSignal;
    threadId?: string;
    from?: McpConnections;
  } = {},
) {
  const t = tool(name, options.from);
  const recording = recordingContext({ approvalPolicy: options.approvalPolicy ?? "never", ...options });
  const output = await t.execute(t.parse(functionCall(t.name, args)), recording.ctx);
  return { output, events: recording.events, approvals: recording.approvals };
}

/** Events with the generated item ids replaced, for whole-object comparison. */
function withoutIds(events: ThreadEvent[]): unknown[] {
  return events.map((e) => ("item" in e ? { ...e, item: { ...e.item, id: "ID" } } : e));
}

describe("an MCP tool", () => {
  it("emits item/started and item/completed with the call and its result, and returns the text", async () => {
    const { output, events } = await run("add", { a: 1, b: 2 });
    expect(output).toBe("3");
    const item = {
      id: "ID",
      type: "mcpToolCall",
      server: "echo_srv",
      tool: "add",
      arguments: { a: 1, b: 2 },
    };
    expect(withoutIds(events)).toEqual([
      { type: "item/started", item: { ...item, status: "in_progress" } },
      {
        type: "item/completed",
        item: { ...item, result: [{ type: "text", text: "3" }], status: "completed" },
      },
    ]);
  });

  it("declares read-only tools (readOnlyHint) as not mutating, and the others as mutating", () => {
    expect(tool("echo").isMutating({ text: "x" })).toBe(false);
    expect(tool("add").isMutating({ a: 1, b: 2 })).toBe(true);
  });

  it("gives an isError result to the model prefixed with Error: and marks the item failed", async () => {
    const { output, events } = await run("fail", {});
    expect(output).toBe("Error: something broke");
    expect(events.at(-1)).toMatchObject({
      type: "item/completed",
      item: {
        status: "failed",
        error: "something broke",
        result: [{ type: "text", text: "something broke" }],
      },
    });
  });

  it("shows images to the model as [image]", async () => {
    expect((await run("image", {})).output).toBe("[image]\na tiny picture");
  });

  it("turns a call past tool_timeout_sec into output the model can read, and keeps the server usable", async () => {
    const { output, events } = await run("slow", { ms: 3_000 });
    expect(output).toBe("Error: the MCP tool echo_srv.slow failed: timed out after 0.5 s");
    expect(events.at(-1)).toMatchObject({
      type: "item/completed",
      item: { status: "failed", error: "timed out after 0.5 s" },
    });
    expect((await run("echo", { text: "still here" })).output).toBe("echo: still here");
  });

  it("ends the turn as interrupted when the turn's signal aborts mid-call", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const t = tool("slow");
    const { ctx, events } = recordingContext({ approvalPolicy: "never", signal: controller.signal });
    await expect(t.execute(t.parse(functionCall(t.name, { ms: 400 })), ctx)).rejects.toMatchObject({
      code: "turn_interrupted",
    });
    expect(events.at(-1)).toMatchObject({ type: "item/completed", item: { status: "interrupted" } });
  });

  it("answers arguments that are not a JSON object with a ToolError the model can read", () => {
    const t = tool("add");
    expect(() => t.parse(functionCall(t.name, "{not json"))).toThrow(
      new ToolError("failed to parse function arguments for echo_srv__add: not valid JSON"),
    );
    expect(() => t.parse(functionCall(t.name, [1, 2]))).toThrow(
      new ToolError("arguments for echo_srv__add must be a JSON object"),
    );
  });

  it("passes the server's own argument errors back as tool output", async () => {
    const { output } = await run("add", { a: "one" });
    expect(output).toMatch(/^Error: .*(a|b)/);
  });

  it("turns a server that died into tool output, on this call and the next", async () => {
    const own = await start();
    try {
      const first = await run("die", {}, { from: own });
      expect(first.output).toMatch(
        /^Error: the MCP tool echo_srv\.die failed: the server is not running any more/,
      );
      expect(first.events.at(-1)).toMatchObject({ item: { status: "failed" } });
      const second = await run("echo", { text: "hi" }, { from: own });
      expect(second.output).toMatch(/^Error: the MCP tool echo_srv\.echo failed: /);
    } finally {
      await own.close();
    }
  });
});

describe("MCP tool approvals", () => {
  const cases: { policy: ApprovalPolicy; tool: string; asks: boolean }[] = [
    { policy: "never", tool: "add", asks: false },
    { policy: "on-failure", tool: "add", asks: false },
    { policy: "on-request", tool: "echo", asks: false },
    { policy: "on-request", tool: "add", asks: true },
    { policy: "untrusted", tool: "echo", asks: true },
    { policy: "untrusted", tool: "add", asks: true },
  ];
  for (const c of cases) {
    it(`${c.asks ? "asks" : "does not ask"} before ${c.tool} under ${c.policy}`, async () => {
      const args = c.tool === "add" ? { a: 1, b: 2 } : { text: "x" };
      const { approvals } = await run(c.tool, args, { approvalPolicy: c.policy });
      const summary = c.tool === "add" ? 'echo_srv.add({"a":1,"b":2})' : 'echo_srv.echo({"text":"x"})';
      expect(approvals).toEqual(
        c.asks ? [{ kind: "tool", callId: "call_1", summary, escalated: false }] : [],
      );
    });
  }

  it("does not call the server when the user declines, and tells the model", async () => {
    const { output, events } = await run(
      "add",
      { a: 1, b: 2 },
      { approvalPolicy: "on-request", decision: "denied" },
    );
    expect(output).toBe(
      "The user declined this call to echo_srv.add. Do not retry it; find another way or ask the user.",
    );
    expect(withoutIds(events)).toEqual([
      {
        type: "item/completed",
        item: {
          id: "ID",
          type: "mcpToolCall",
          server: "echo_srv",
          tool: "add",
          arguments: { a: 1, b: 2 },
          status: "declined",
        },
      },
    ]);
  });

  it("ends the turn when the approval is aborted", async () => {
    await expect(
      run("add", { a: 1, b: 2 }, { approvalPolicy: "untrusted", decision: "aborted" }),
    ).rejects.toMatchObject({ code: "turn_interrupted" });
  });

  it("stops asking in a thread once the tool is approved for the session", async () => {
    const options = {
      approvalPolicy: "untrusted",
      decision: "approved_for_session",
      threadId: "thr_session",
    } as const;
    expect((await run("echo", { text: "a" }, options)).approvals).toHaveLength(1);
    expect((await run("echo", { text: "b" }, options)).approvals).toEqual([]);
    expect((await run("echo", { text: "c" }, { ...options, threadId: "thr_other" })).approvals).toHaveLength(
      1,
    );
  });
});

describe("mcpToolName", () => {
  it("joins server and tool with __ and replaces other characters with _", () => {
    expect(mcpToolName("docs", "search.v2 beta")).toBe("docs__search_v2_beta");
  });

  it("caps names at 64 characters and keeps long names apart with a hash", () => {
    const a = mcpToolName("server", `${"x".repeat(80)}a`);
    const b = mcpToolName("server", `${"x".repeat(80)}b`);
    expect(a).toHaveLength(64);
    expect(a).toMatch(/^server__x+_[0-9a-f]{8}$/);
    expect(a).not.toBe(b);
  });
});
