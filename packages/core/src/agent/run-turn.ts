// One turn of the agent loop:
//   build the request (instructions + history + tools) → stream the model (retrying transient
//   failures) → commit its items to the history → run its tool calls (reads together, writes one at a
//   time), journaling each output → repeat until the model answers without tool calls.
// Every history item is journaled as it is committed, so a turn cut off by a crash resumes from its
// last completed step (see `resumeTurnState`).
import {
  type AgentMessageItem,
  addUsage,
  type ErrorInfo,
  emptyUsage,
  type HistoryItem,
  type HistoryToolCall,
  isToolCall,
  KilnError,
  type ReasoningItem,
  type ThreadEvent,
  toErrorInfo,
  type Usage,
} from "@kiln/protocol";
import type { ModelClient, ModelRequest } from "../model/model-client.ts";
import { type RetryOptions, streamWithRetry } from "../model/retry.ts";
import { runToolCalls, type ToolSet } from "../tools/run-tool-calls.ts";
import type { ToolContext } from "../tools/tool.ts";

/** What a turn needs from its thread. */
export interface TurnHost {
  threadId: string;
  turnId: string;
  model: ModelClient;
  request: Omit<ModelRequest, "input" | "tools">;
  tools: ToolSet;
  retry: RetryOptions;
  history: HistoryItem[];
  /** Appends to the history and journals it. */
  record(item: HistoryItem): void;
  emit(event: ThreadEvent): void;
  newItemId(): string;
  toolContext(call: HistoryToolCall, signal: AbortSignal): ToolContext;
  /** Checks the final message (e.g. against an output schema): a problem to tell the model, or undefined. */
  checkFinal?: ((text: string) => string | undefined) | undefined;
}

/** How often the model is asked to fix a final message that fails `checkFinal`. */
const FINAL_CHECK_RETRIES = 2;

/** How a turn ended. */
export interface TurnOutcome {
  status: "completed" | "failed" | "interrupted";
  usage: Usage;
  finalResponse: string;
  error?: ErrorInfo;
}

/** Runs the loop until the model is done, the signal aborts, or an error ends the turn. */
export async function runTurnLoop(host: TurnHost, signal: AbortSignal): Promise<TurnOutcome> {
  let usage = emptyUsage();
  let finalResponse = "";
  let corrections = 0;
  try {
    for (;;) {
      if (signal.aborted) throw new KilnError("turn_interrupted", "the turn was interrupted");
      const step = await modelStep(host, signal);
      usage = addUsage(usage, step.usage);
      host.emit({ type: "usage/updated", call: step.usage, turn: usage });
      if (step.lastMessage !== undefined) finalResponse = step.lastMessage;
      if (step.calls.length === 0) {
        const problem = host.checkFinal?.(finalResponse);
        if (problem === undefined) return { status: "completed", usage, finalResponse };
        if (corrections >= FINAL_CHECK_RETRIES) {
          throw new KilnError(
            "model_error",
            `the final message does not match the output schema: ${problem}`,
            {
              retryable: false,
            },
          );
        }
        corrections++;
        host.record({
          type: "message",
          role: "user",
          content: [
            {
              type: "input_text",
              text: `Your final message must be JSON that matches the output schema. Problem: ${problem}. Reply again with only the JSON.`,
            },
          ],
        });
        continue;
      }
      await runToolCalls(
        step.calls,
        host.tools,
        (call) => host.toolContext(call, signal),
        (output) => host.record(output),
      );
    }
  } catch (error) {
    const info = toErrorInfo(error);
    const status = info.code === "turn_interrupted" ? "interrupted" : "failed";
    return { status, usage, finalResponse, error: info };
  }
}

interface StepResult {
  calls: HistoryToolCall[];
  usage: Usage;
  lastMessage: string | undefined;
}

/** One model call: live deltas while it streams, items committed only once it completed. */
async function modelStep(host: TurnHost, signal: AbortSignal): Promise<StepResult> {
  const request: ModelRequest = {
    ...host.request,
    input: host.history,
    tools: [...host.tools.values()].map((t) => t.spec),
  };
  let pending: HistoryItem[] = [];
  let liveMessages: string[] = [];
  let liveReasoning: string | undefined;
  let usage: Usage | undefined;
  let openMessage: string | undefined;

  for await (const event of streamWithRetry(host.model, request, signal, host.retry)) {
    switch (event.type) {
      case "text_delta": {
        if (openMessage === undefined) {
          openMessage = host.newItemId();
          liveMessages.push(openMessage);
          host.emit({ type: "item/started", item: { id: openMessage, type: "agentMessage", text: "" } });
        }
        host.emit({ type: "item/agentMessage/delta", itemId: openMessage, delta: event.delta });
        break;
      }
      case "reasoning_delta": {
        if (liveReasoning === undefined) {
          liveReasoning = host.newItemId();
          host.emit({ type: "item/started", item: { id: liveReasoning, type: "reasoning", text: "" } });
        }
        host.emit({ type: "item/reasoning/delta", itemId: liveReasoning, delta: event.delta });
        break;
      }
      case "item_done":
        pending.push(event.item);
        if (event.item.type === "message") openMessage = undefined;
        break;
      case "completed":
        usage = event.usage;
        break;
      case "retrying":
        host.emit({
          type: "model/retrying",
          attempt: event.attempt,
          maxAttempts: event.maxAttempts,
          delayMs: event.delayMs,
          error: event.error,
        });
        pending = [];
        liveMessages = [];
        liveReasoning = undefined;
        openMessage = undefined;
        break;
    }
  }

  let lastMessage: string | undefined;
  for (const item of pending) {
    host.record(item);
    if (item.type === "message" && item.role === "assistant") {
      const text = item.content.map((c) => (c.type === "input_image" ? "" : c.text)).join("");
      const completed: AgentMessageItem = {
        id: liveMessages.shift() ?? host.newItemId(),
        type: "agentMessage",
        text,
      };
      host.emit({ type: "item/completed", item: completed });
      lastMessage = text;
    } else if (item.type === "reasoning") {
      const text = item.summary.map((s) => s.text).join("\n\n");
      const completed: ReasoningItem = { id: liveReasoning ?? host.newItemId(), type: "reasoning", text };
      liveReasoning = undefined;
      if (text !== "") host.emit({ type: "item/completed", item: completed });
    }
  }
  return { calls: pending.filter(isToolCall), usage: usage ?? emptyUsage(), lastMessage };
}
