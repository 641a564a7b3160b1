import { assertNever } from "./errors.ts";
import type { ThreadEvent } from "./events.ts";
import type { ExecEvent, ExecItem } from "./exec-json.ts";
import type { ItemStatus, ThreadItem } from "./items.ts";

/** Turns a thread's events into `kiln exec --json` lines; item ids become `item_N`, numbered per run. */
export interface ExecJsonProjector {
  /** The exec events for one thread event (often none). */
  project(event: ThreadEvent): ExecEvent[];
}

/** A projector with its own per-run item numbering. */
export function createExecJsonProjector(): ExecJsonProjector {
  const ids = new Map<string, string>();
  const execId = (id: string): string => {
    const known = ids.get(id);
    if (known !== undefined) return known;
    const next = `item_${ids.size}`;
    ids.set(id, next);
    return next;
  };

  const toExecItem = (item: ThreadItem): ExecItem | null => {
    switch (item.type) {
      case "agentMessage":
        return { id: execId(item.id), type: "agent_message", text: item.text };
      case "reasoning":
        return { id: execId(item.id), type: "reasoning", text: item.text };
      case "commandExecution":
        return {
          id: execId(item.id),
          type: "command_execution",
          command: item.command,
          aggregated_output: item.aggregatedOutput,
          exit_code: item.exitCode,
          status: commandStatus(item.status),
          ...(item.durationMs === null ? {} : { duration_ms: item.durationMs }),
        };
      case "fileChange":
        return {
          id: execId(item.id),
          type: "file_change",
          changes: item.changes.map((c) => ({
            path: c.movePath ?? c.path,
            kind: c.kind,
            ...(c.diff === undefined ? {} : { diff: c.diff }),
          })),
          status:
            item.status === "in_progress"
              ? "in_progress"
              : item.status === "completed"
                ? "completed"
                : "failed",
        };
      case "plan":
        return {
          id: execId(item.id),
          type: "todo_list",
          items: item.steps.map((s) => ({ text: s.step, completed: s.status === "completed" })),
        };
      case "mcpToolCall":
        return {
          id: execId(item.id),
          type: "mcp_tool_call",
          server: item.server,
          tool: item.tool,
          status:
            item.status === "in_progress"
              ? "in_progress"
              : item.status === "completed"
                ? "completed"
                : "failed",
          arguments: item.arguments,
          ...(item.result === undefined ? {} : { result: item.result }),
          ...(item.error === undefined ? {} : { error: { message: item.error } }),
        };
      case "error":
        return { id: execId(item.id), type: "error", message: item.error.message };
      case "userMessage":
      case "toolCall":
      case "subAgent":
      case "contextCompaction":
      case "approval":
        return null;
      default:
        return assertNever(item);
    }
  };

  /** Items whose start is shown (messages and reasoning appear only when complete, as in Codex). */
  const showsStart = (item: ThreadItem) =>
    item.type === "commandExecution" ||
    item.type === "fileChange" ||
    item.type === "mcpToolCall" ||
    item.type === "plan";

  const itemEvent = (
    type: "item.started" | "item.updated" | "item.completed",
    item: ThreadItem,
  ): ExecEvent[] => {
    const projected = toExecItem(item);
    return projected === null ? [] : [{ type, item: projected }];
  };

  return {
    project(event) {
      switch (event.type) {
        case "thread/started":
          return [{ type: "thread.started", thread_id: event.thread.id }];
        case "turn/started":
          return [{ type: "turn.started" }];
        case "item/started":
          return showsStart(event.item) ? itemEvent("item.started", event.item) : [];
        case "item/updated":
          return itemEvent("item.updated", event.item);
        case "item/completed":
          return itemEvent("item.completed", event.item);
        case "model/retrying":
          return [
            {
              type: "error",
              message: `Reconnecting... ${event.attempt}/${event.maxAttempts} (${event.error.message})`,
            },
          ];
        case "turn/completed":
          if (event.status === "completed") {
            return [
              {
                type: "turn.completed",
                usage: {
                  input_tokens: event.usage.inputTokens,
                  cached_input_tokens: event.usage.cachedInputTokens,
                  output_tokens: event.usage.outputTokens,
                  reasoning_output_tokens: event.usage.reasoningOutputTokens,
                },
              },
            ];
          }
          return [
            { type: "turn.failed", error: { message: event.error?.message ?? `turn ${event.status}` } },
          ];
        case "item/agentMessage/delta":
        case "item/reasoning/delta":
        case "item/commandExecution/outputDelta":
        case "usage/updated":
        case "subAgent/item":
        case "subAgent/turnCompleted":
        case "warning":
          return [];
        default:
          return assertNever(event);
      }
    },
  };
}

function commandStatus(status: ItemStatus): "in_progress" | "completed" | "failed" | "declined" {
  switch (status) {
    case "in_progress":
    case "completed":
    case "failed":
    case "declined":
      return status;
    case "interrupted":
      return "failed";
    default:
      return assertNever(status);
  }
}
