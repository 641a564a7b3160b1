import { describe, expect, it } from "vitest";
import type { ThreadEvent } from "./events.ts";
import { ExecEvent } from "./exec-json.ts";
import { createExecJsonProjector } from "./exec-json-projector.ts";
import type { CommandExecutionItem, FileChangeItem, ItemStatus, ThreadItem } from "./items.ts";
import type { ThreadInfo } from "./thread.ts";
import type { Usage } from "./usage.ts";

const thread: ThreadInfo = {
  id: "thr_01JD3ZQ5X8E6R4V2N0M1K9H7GF",
  createdAt: 1_760_000_000_000,
  cwd: "/work/repo",
  model: "gpt-5.5",
  modelProvider: "openai",
  sandbox: "workspace-write",
  approvalPolicy: "on-request",
  mode: "code",
  additionalDirectories: [],
};

const usage: Usage = {
  inputTokens: 3006,
  cachedInputTokens: 1024,
  outputTokens: 60,
  reasoningOutputTokens: 12,
  totalTokens: 3066,
};

function command(status: ItemStatus, overrides: Partial<CommandExecutionItem> = {}): CommandExecutionItem {
  return {
    id: "cmd-a",
    type: "commandExecution",
    command: "ls -la",
    cwd: "/work/repo",
    aggregatedOutput: "",
    exitCode: null,
    durationMs: null,
    status,
    ...overrides,
  };
}

function fileChange(status: ItemStatus): FileChangeItem {
  return {
    id: "patch-a",
    type: "fileChange",
    changes: [
      { path: "hello.txt", kind: "add", diff: "+hello\n" },
      { path: "old.txt", kind: "update", movePath: "new.txt" },
    ],
    status,
  };
}

/** Projects the events, checking that every line survives JSON and parses with the ExecEvent schema. */
function lines(events: ThreadEvent[], projector = createExecJsonProjector()): ExecEvent[] {
  const out = events.flatMap((event) => projector.project(event));
  for (const line of out) expect(ExecEvent.parse(JSON.parse(JSON.stringify(line)))).toEqual(line);
  return out;
}

describe("createExecJsonProjector", () => {
  it("prints a whole turn as the lines in the exec-json spec", () => {
    const out = lines([
      { type: "thread/started", thread },
      { type: "turn/started", turnId: "turn_1" },
      {
        type: "item/started",
        item: { id: "u1", type: "userMessage", content: [{ type: "text", text: "hi" }] },
      },
      {
        type: "item/completed",
        item: { id: "u1", type: "userMessage", content: [{ type: "text", text: "hi" }] },
      },
      { type: "item/started", item: { id: "m1", type: "agentMessage", text: "" } },
      { type: "item/agentMessage/delta", itemId: "m1", delta: "Let me look around first." },
      { type: "item/completed", item: { id: "m1", type: "agentMessage", text: "Let me look around first." } },
      { type: "item/started", item: command("in_progress") },
      { type: "item/commandExecution/outputDelta", itemId: "cmd-a", delta: "total 16\n" },
      { type: "item/completed", item: command("completed", { aggregatedOutput: "total 16\n", exitCode: 0 }) },
      { type: "usage/updated", call: usage, turn: usage },
      { type: "warning", message: "slow disk" },
      { type: "turn/completed", turnId: "turn_1", status: "completed", usage },
    ]);

    expect(out.map((line) => JSON.stringify(line))).toEqual([
      '{"type":"thread.started","thread_id":"thr_01JD3ZQ5X8E6R4V2N0M1K9H7GF"}',
      '{"type":"turn.started"}',
      '{"type":"item.completed","item":{"id":"item_0","type":"agent_message","text":"Let me look around first."}}',
      '{"type":"item.started","item":{"id":"item_1","type":"command_execution","command":"ls -la","aggregated_output":"","exit_code":null,"status":"in_progress"}}',
      '{"type":"item.completed","item":{"id":"item_1","type":"command_execution","command":"ls -la","aggregated_output":"total 16\\n","exit_code":0,"status":"completed"}}',
      '{"type":"turn.completed","usage":{"input_tokens":3006,"cached_input_tokens":1024,"output_tokens":60,"reasoning_output_tokens":12}}',
    ]);
  });

  it("shows agent messages and reasoning only when they complete", () => {
    const out = lines([
      { type: "item/started", item: { id: "r1", type: "reasoning", text: "" } },
      { type: "item/reasoning/delta", itemId: "r1", delta: "thinking" },
      { type: "item/completed", item: { id: "r1", type: "reasoning", text: "thinking" } },
      { type: "item/started", item: { id: "m1", type: "agentMessage", text: "" } },
      { type: "item/completed", item: { id: "m1", type: "agentMessage", text: "Done." } },
    ]);

    expect(out).toEqual([
      { type: "item.completed", item: { id: "item_0", type: "reasoning", text: "thinking" } },
      { type: "item.completed", item: { id: "item_1", type: "agent_message", text: "Done." } },
    ]);
  });

  it("keeps an item's id from start to completion while numbering new items", () => {
    const out = lines([
      { type: "item/started", item: command("in_progress", { id: "a" }) },
      { type: "item/started", item: command("in_progress", { id: "b" }) },
      { type: "item/completed", item: command("completed", { id: "b", exitCode: 0 }) },
      { type: "item/completed", item: command("completed", { id: "a", exitCode: 0 }) },
    ]);

    expect(out.map((line) => ("item" in line ? `${line.type} ${line.item.id}` : line.type))).toEqual([
      "item.started item_0",
      "item.started item_1",
      "item.completed item_1",
      "item.completed item_0",
    ]);
  });

  it("numbers items per projector, from item_0", () => {
    const message: ThreadEvent = {
      type: "item/completed",
      item: { id: "m", type: "agentMessage", text: "x" },
    };
    const first = createExecJsonProjector();
    lines([{ type: "item/completed", item: { id: "z", type: "agentMessage", text: "y" } }], first);

    expect(lines([message], first)).toEqual([
      { type: "item.completed", item: { id: "item_1", type: "agent_message", text: "x" } },
    ]);
    expect(lines([message])).toEqual([
      { type: "item.completed", item: { id: "item_0", type: "agent_message", text: "x" } },
    ]);
  });

  it.each([
    ["completed", "completed"],
    ["failed", "failed"],
    ["declined", "declined"],
    ["interrupted", "failed"],
  ] as const)("maps a %s command to status %s, with its exit code and duration", (status, expected) => {
    expect(
      lines([{ type: "item/completed", item: command(status, { exitCode: 2, durationMs: 15 }) }]),
    ).toEqual([
      {
        type: "item.completed",
        item: {
          id: "item_0",
          type: "command_execution",
          command: "ls -la",
          aggregated_output: "",
          exit_code: 2,
          status: expected,
          duration_ms: 15,
        },
      },
    ]);
  });

  it.each([
    ["in_progress", "in_progress"],
    ["completed", "completed"],
    ["failed", "failed"],
    ["declined", "failed"],
    ["interrupted", "failed"],
  ] as const)("maps a %s file change to status %s, with diffs and the moved-to path", (status, expected) => {
    expect(lines([{ type: "item/completed", item: fileChange(status) }])).toEqual([
      {
        type: "item.completed",
        item: {
          id: "item_0",
          type: "file_change",
          changes: [
            { path: "hello.txt", kind: "add", diff: "+hello\n" },
            { path: "new.txt", kind: "update" },
          ],
          status: expected,
        },
      },
    ]);
  });

  it("prints a plan as a todo_list that is started, updated and completed", () => {
    const plan = (done: boolean): ThreadItem => ({
      id: "plan-1",
      type: "plan",
      steps: [
        { step: "read", status: done ? "completed" : "in_progress" },
        { step: "fix", status: "pending" },
      ],
    });
    const todo = (done: boolean) => ({
      id: "item_0",
      type: "todo_list" as const,
      items: [
        { text: "read", completed: done },
        { text: "fix", completed: false },
      ],
    });

    expect(
      lines([
        { type: "item/started", item: plan(false) },
        { type: "item/updated", item: plan(true) },
        { type: "item/completed", item: plan(true) },
      ]),
    ).toEqual([
      { type: "item.started", item: todo(false) },
      { type: "item.updated", item: todo(true) },
      { type: "item.completed", item: todo(true) },
    ]);
  });

  it("prints MCP tool calls with arguments, result and error", () => {
    const base = {
      id: "mcp-1",
      type: "mcpToolCall",
      server: "docs",
      tool: "search",
      arguments: { q: "x" },
    } as const;

    expect(
      lines([
        { type: "item/started", item: { ...base, status: "in_progress" } },
        { type: "item/completed", item: { ...base, status: "completed", result: { hits: 1 } } },
        { type: "item/completed", item: { ...base, id: "mcp-2", status: "declined", error: "denied" } },
      ]),
    ).toEqual([
      {
        type: "item.started",
        item: {
          id: "item_0",
          type: "mcp_tool_call",
          server: "docs",
          tool: "search",
          status: "in_progress",
          arguments: { q: "x" },
        },
      },
      {
        type: "item.completed",
        item: {
          id: "item_0",
          type: "mcp_tool_call",
          server: "docs",
          tool: "search",
          status: "completed",
          arguments: { q: "x" },
          result: { hits: 1 },
        },
      },
      {
        type: "item.completed",
        item: {
          id: "item_1",
          type: "mcp_tool_call",
          server: "docs",
          tool: "search",
          status: "failed",
          arguments: { q: "x" },
          error: { message: "denied" },
        },
      },
    ]);
  });

  it("prints an error item with its message", () => {
    const error = { code: "tool_error", message: "boom", retryable: false } as const;

    expect(lines([{ type: "item/completed", item: { id: "e1", type: "error", error } }])).toEqual([
      { type: "item.completed", item: { id: "item_0", type: "error", message: "boom" } },
    ]);
  });

  it("prints nothing for items Codex does not show", () => {
    const hidden: ThreadItem[] = [
      { id: "u", type: "userMessage", content: [{ type: "text", text: "hi" }] },
      { id: "t", type: "toolCall", tool: "custom", arguments: {}, status: "completed" },
      { id: "s", type: "subAgent", childThreadId: "thr_x", prompt: "p", status: "completed" },
      { id: "c", type: "contextCompaction", summary: "s", tokensBefore: 10, tokensAfter: 2 },
      { id: "a", type: "approval", callId: "call_1", kind: "command", summary: "rm", decision: "approved" },
    ];
    const events = hidden.flatMap((item): ThreadEvent[] => [
      { type: "item/started", item },
      { type: "item/updated", item },
      { type: "item/completed", item },
    ]);
    const projector = createExecJsonProjector();

    expect(lines(events, projector)).toEqual([]);
    expect(
      lines([{ type: "item/completed", item: { id: "m", type: "agentMessage", text: "" } }], projector),
    ).toEqual([{ type: "item.completed", item: { id: "item_0", type: "agent_message", text: "" } }]);
  });

  it("prints a retried model call as a Reconnecting error line", () => {
    const error = { code: "model_stream_disconnected", message: "stream closed", retryable: true } as const;

    expect(lines([{ type: "model/retrying", attempt: 2, maxAttempts: 5, delayMs: 500, error }])).toEqual([
      { type: "error", message: "Reconnecting... 2/5 (stream closed)" },
    ]);
  });

  it("prints a failed turn with the error's message", () => {
    const error = { code: "model_error", message: "the model refused", retryable: false } as const;

    expect(lines([{ type: "turn/completed", turnId: "t", status: "failed", usage, error }])).toEqual([
      { type: "turn.failed", error: { message: "the model refused" } },
    ]);
  });

  it("prints an interrupted turn without an error as turn.failed naming the status", () => {
    expect(lines([{ type: "turn/completed", turnId: "t", status: "interrupted", usage }])).toEqual([
      { type: "turn.failed", error: { message: "turn interrupted" } },
    ]);
  });
});
