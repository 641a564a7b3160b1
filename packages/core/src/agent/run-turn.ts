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
  type InputPart,
  isToolCall,
  KilnError,
  type ReasoningItem,
  type ThreadEvent,
  toErrorInfo,
  type Usage,
} from "@kiln/protocol";
import type { ModelClient, ModelRequest, ModelStreamEvent } from "../model/model-client.ts";
import { type RetryNotice, type RetryOptions, streamWithRetry } from "../model/retry.ts";
import { outputItem, runToolCalls, type ToolCallHooks, type ToolSet } from "../tools/run-tool-calls.ts";
import type { ToolContext } from "../tools/tool.ts";
import type { StepJournal } from "./step-journal.ts";

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
  /** Runs between steps, before each model call (steering input, compaction); returns usage it spent. */
  beforeModelCall?: ((signal: AbortSignal) => Promise<Usage | undefined>) | undefined;
  /** Whether input arrived (steering) that the model has not seen: the turn goes on. */
  hasPendingInput?: (() => boolean) | undefined;
  /** Steering input from the journal's inbox (see `StepJournal.inbox`); absent: none. */
  inbox?: TurnInbox | undefined;
  /** Prices a model call (and adds it to the turn and thread totals), when the model has a price. */
  priceCall?:
    | ((call: Usage) => { callUsd: number; turnUsd: number; threadUsd: number } | undefined)
    | undefined;
  /** Checks budgets after each model call; throws `budget_exceeded` to stop the turn. */
  afterModelCall?: ((call: Usage, turn: Usage) => void) | undefined;
  /** pre/post_tool_use hooks around each call. */
  hooks?: ToolCallHooks | undefined;
  /** The same call failing this many times in a row stops the turn (0 = never). */
  repeatedFailureLimit?: number | undefined;
  /** Runs each model call and tool call as a journaled step (durable execution); absent: in-process. */
  journal?: StepJournal | undefined;
}

/** Input from outside a durable turn: taken inside its steps, then added to the history. */
export interface TurnInbox {
  /** A key for the next take, unique in the turn and the same on a replay. */
  nextKey(): string;
  take(key: string): Promise<InputPart[][]>;
  /** The history item the model sees for an input. */
  message(parts: InputPart[]): HistoryItem;
  /** Adds an input to the history and the stream (as steering does). */
  accept(parts: InputPart[]): void;
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
  const failures = repeatedFailures(host.repeatedFailureLimit ?? 3);
  // Calls of the current step without an output yet: if the turn ends early they get one, so the
  // history never holds a call without its output (the next request would be rejected).
  let unanswered: HistoryToolCall[] = [];
  const addUsageOf = (extra: Usage | undefined) => {
    if (extra === undefined || extra.totalTokens === 0) return;
    usage = addUsage(usage, extra);
    const cost = host.priceCall?.(extra);
    host.emit({ type: "usage/updated", call: extra, turn: usage, ...(cost === undefined ? {} : { cost }) });
  };
  try {
    for (;;) {
      if (signal.aborted) throw new KilnError("turn_interrupted", "the turn was interrupted");
      addUsageOf(await host.beforeModelCall?.(signal));
      const step = await modelStep(host, signal);
      unanswered = [...step.calls];
      usage = addUsage(usage, step.usage);
      const cost = host.priceCall?.(step.usage);
      host.emit({
        type: "usage/updated",
        call: step.usage,
        turn: usage,
        ...(cost === undefined ? {} : { cost }),
      });
      host.afterModelCall?.(step.usage, usage);
      if (step.lastMessage !== undefined) finalResponse = step.lastMessage;
      if (step.calls.length === 0) {
        if (host.hasPendingInput?.() === true) continue;
        if (host.inbox !== undefined && host.journal !== undefined) {
          // Input that arrived while the model answered: the turn goes on with it.
          const inbox = host.inbox;
          const key = inbox.nextKey();
          const arrived = await host.journal.step(`inbox ${key}`, () => inbox.take(key));
          for (const parts of arrived) inbox.accept(parts);
          if (arrived.length > 0) continue;
        }
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
      const outputs = new Map<string, string>();
      await runToolCalls(
        step.calls,
        host.tools,
        (call) => host.toolContext(call, signal),
        (output) => {
          if ("output" in output) outputs.set(output.call_id, output.output);
          unanswered = unanswered.filter((c) => !("call_id" in output) || c.call_id !== output.call_id);
          host.record(output);
        },
        host.hooks,
        host.journal,
      );
      failures.observe(step.calls, outputs);
    }
  } catch (error) {
    // An interrupt aborts whatever was in flight: a model stream then ends early ("disconnected"), a
    // command is killed. The turn was interrupted, whatever that step reported.
    const info: ErrorInfo =
      signal.aborted && !(error instanceof KilnError && error.code === "turn_interrupted")
        ? { code: "turn_interrupted", message: "the turn was interrupted", retryable: false }
        : toErrorInfo(error);
    const status = info.code === "turn_interrupted" ? "interrupted" : "failed";
    for (const call of unanswered)
      host.record(outputItem(call, `Error: not run: the turn ended first (${info.message})`));
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

  // Journaled: the whole response is recorded as one step, then its events are replayed from the
  // record (live deltas arrive when the call has completed).
  // A durable turn takes its inbox's input inside the step, so the step's record holds what the
  // model saw; it is added to the history before the response.
  const journal = host.journal;
  const inbox = host.inbox;
  const key = inbox?.nextKey();
  let events: AsyncIterable<ModelStreamEvent | RetryNotice> | (ModelStreamEvent | RetryNotice)[];
  if (journal === undefined) {
    events = streamWithRetry(host.model, request, signal, host.retry);
  } else {
    const recorded = await journal.step("model", async () => {
      const arrived = inbox === undefined || key === undefined ? [] : await inbox.take(key);
      const withInput =
        arrived.length === 0
          ? request
          : {
              ...request,
              input: [...request.input, ...arrived.map((parts) => inbox?.message(parts) as HistoryItem)],
            };
      const streamed: (ModelStreamEvent | RetryNotice)[] = [];
      try {
        for await (const event of streamWithRetry(host.model, withInput, signal, host.retry))
          streamed.push(event);
      } catch (error) {
        // The input taken is recorded even when the call fails: it goes into the history either way.
        if (arrived.length === 0) throw error;
        return { arrived, streamed, error: toErrorInfo(error) };
      }
      return { arrived, streamed };
    });
    for (const parts of recorded.arrived) inbox?.accept(parts);
    const failed = (recorded as { error?: ErrorInfo }).error;
    if (failed !== undefined) {
      throw new KilnError(failed.code, failed.message, {
        retryable: failed.retryable,
        ...(failed.details === undefined ? {} : { details: failed.details }),
      });
    }
    events = recorded.streamed;
  }
  for await (const event of events) {
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

/**
 * Stops a turn that spins: the same call (tool + arguments) failing `limit` times in a row ends the
 * turn with a message asking the user, instead of burning tokens.
 */
function repeatedFailures(limit: number) {
  let last: string | undefined;
  let count = 0;
  return {
    observe(calls: HistoryToolCall[], outputs: Map<string, string>): void {
      if (limit <= 0) return;
      for (const call of calls) {
        const key = `${call.name}\u0000${call.type === "function_call" ? call.arguments : call.input}`;
        const output = outputs.get(call.call_id) ?? "";
        const failed = output.startsWith("Error:") || /^Exit code: (?!0\n)/.test(output);
        // Anything else in between (a patch, another command) breaks the streak: that is work, not a loop.
        if (!failed || key !== last) count = 0;
        last = failed ? key : undefined;
        if (!failed) continue;
        count++;
        if (count >= limit) {
          throw new KilnError(
            "tool_error",
            `stopped: the model made the same failing ${call.name} call ${count} times in a row. Look at the last error, then tell the agent how to proceed (or raise repeated_failure_limit).`,
            { retryable: false, details: { tool: call.name, count } },
          );
        }
      }
    },
  };
}
