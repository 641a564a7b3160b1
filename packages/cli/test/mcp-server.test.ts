// `kiln mcp-server` driven by the official MCP client over stdio: the real bundled CLI, a real temp git
// repository, the real sandbox, and the fake model server.

import { readFile } from "node:fs/promises";
import { listRollouts } from "@kiln/core";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult, LoggingMessageNotification } from "@modelcontextprotocol/sdk/types.js";
import { LoggingMessageNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KILN_BIN, useCliHarness } from "./run-kiln.ts";

const cli = useCliHarness();
let client: Client;
let transport: StdioClientTransport;
let stderr: string;
let logs: LoggingMessageNotification["params"][];

beforeEach(async () => {
  const repo = await cli.tempRepo({ "notes.txt": "the answer is 42\n" });
  transport = new StdioClientTransport({
    command: process.execPath,
    args: [KILN_BIN, "mcp-server"],
    env: cli.home.env,
    cwd: repo.dir,
    stderr: "pipe",
  });
  stderr = "";
  transport.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  logs = [];
  client = new Client({ name: "kiln-test", version: "1.0.0" });
  client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
    logs.push(notification.params);
  });
  await client.connect(transport);
});

afterEach(async () => {
  await client.close();
});

/** The text of a tool result's first content block. */
function textOf(result: CallToolResult): string {
  const first = result.content[0];
  return first?.type === "text" ? first.text : "";
}

async function callTool(name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

describe("kiln mcp-server", () => {
  it("offers the kiln and kiln-reply tools, and says approvals are declined", async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(["kiln", "kiln-reply"]);
    const kiln = tools[0];
    expect(kiln?.inputSchema.required).toEqual(["prompt"]);
    expect(Object.keys(kiln?.inputSchema.properties ?? {})).toEqual([
      "prompt",
      "cwd",
      "model",
      "sandbox",
      "approval-policy",
      "profile",
      "config",
    ]);
    expect(kiln?.description).toContain("declined");
    expect(tools[1]?.inputSchema.required).toEqual(["prompt"]);
  });

  it("runs a session with kiln, then continues it with kiln-reply", async () => {
    const { server } = cli;
    server.setScenario({
      steps: [
        { output: [{ type: "exec_command", cmd: "cat notes.txt" }] },
        { output: [{ type: "message", text: "The notes say 42." }] },
        { when: { bodyIncludes: "and doubled?" }, output: [{ type: "message", text: "84." }] },
      ],
    });
    const first = await callTool("kiln", {
      prompt: "what do the notes say?",
      sandbox: "workspace-write",
      "approval-policy": "never",
    });
    expect(first.isError).toBeUndefined();
    expect(textOf(first)).toBe("The notes say 42.");
    const structured = first.structuredContent as { threadId: string; status: string; finalResponse: string };
    expect(structured).toMatchObject({ status: "completed", finalResponse: "The notes say 42." });
    expect(structured.threadId).toMatch(/^thr_[0-9A-Z]{26}$/);
    // The command really ran in the repository, and the model got its output.
    expect(JSON.stringify(server.requests[1]?.body)).toContain("the answer is 42");
    // The turn's steps were sent as log notifications while it ran.
    const events = logs.map((l) => (l.data as { event: { type: string } }).event.type);
    expect(events).toEqual(expect.arrayContaining(["turn/started", "item/completed", "turn/completed"]));

    const second = await callTool("kiln-reply", { threadId: structured.threadId, prompt: "and doubled?" });
    expect(second.isError).toBeUndefined();
    expect(textOf(second)).toBe("84.");
    expect(second.structuredContent).toMatchObject({ threadId: structured.threadId, status: "completed" });
    const lastBody = JSON.stringify(server.requests.at(-1)?.body);
    expect(lastBody).toContain("what do the notes say?");
    expect(lastBody).toContain("and doubled?");
    expect(stderr).toBe("kiln mcp-server: ready on stdio\n");
  });

  it("accepts Codex's conversationId for kiln-reply", async () => {
    const { server } = cli;
    server.setScenario({
      steps: [{ output: [{ type: "message", text: "one" }] }, { output: [{ type: "message", text: "two" }] }],
    });
    const first = await callTool("kiln", { prompt: "count", sandbox: "read-only" });
    const { threadId } = first.structuredContent as { threadId: string };
    const second = await callTool("kiln-reply", { conversationId: threadId, prompt: "again" });
    expect(textOf(second)).toBe("two");
  });

  it("answers an unknown threadId with a tool error", async () => {
    const result = await callTool("kiln-reply", { threadId: "thr_00000000000000000000000000", prompt: "hi" });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^no session thr_00000000000000000000000000 under /);
  });

  it("answers a configuration error with a tool error and keeps serving", async () => {
    const bad = await callTool("kiln", { prompt: "hi", config: { model_provider: "nowhere" } });
    expect(bad.isError).toBe(true);
    expect(textOf(bad)).toContain("nowhere");
    expect((await client.listTools()).tools).toHaveLength(2);
  });

  it("reports a turn that failed as a tool error with the thread's result", async () => {
    const { server } = cli;
    server.setScenario({ steps: [{ fault: { type: "http", status: 400 } }] });
    const result = await callTool("kiln", { prompt: "hi", sandbox: "read-only" });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^The Kiln turn failed \(thread thr_[0-9A-Z]{26}\): /);
    expect(result.structuredContent).toMatchObject({ status: "failed", finalResponse: "" });
  });

  it("refuses a reply to a thread mid-turn, and interrupts the turn when the client goes away", async () => {
    const { server, home } = cli;
    server.setScenario({
      steps: [{ output: [{ type: "exec_command", cmd: "sleep 30", yield_time_ms: 60_000 }] }],
    });
    const pending = callTool("kiln", { prompt: "wait", sandbox: "workspace-write" }).catch(
      (error: unknown) => error,
    );
    await waitFor(() =>
      logs.some((l) => {
        const { event } = l.data as { event: { type: string; item?: { type: string } } };
        return event.type === "item/started" && event.item?.type === "commandExecution";
      }),
    );
    const threadId = (logs[0]?.data as { threadId?: string } | undefined)?.threadId ?? "";
    const busy = await callTool("kiln-reply", { threadId, prompt: "are you done?" });
    expect(busy.isError).toBe(true);
    expect(textOf(busy)).toBe(
      `thread ${threadId} is already running a turn: wait for it to finish, then reply`,
    );
    const pid = transport.pid;
    const started = Date.now();
    await client.close();
    // The SDK would send SIGTERM after 2 s: the server must have left on its own before that.
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(pid === null ? false : isAlive(pid)).toBe(false);
    await pending;
    const [rollout] = listRollouts(home.home);
    const lines = (await readFile(rollout ?? "", "utf8")).trim().split("\n");
    const last = JSON.parse(lines.at(-1) ?? "{}") as {
      payload: { event?: { type: string; status?: string } };
    };
    expect(last.payload.event).toMatchObject({ type: "turn/completed", status: "interrupted" });
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
