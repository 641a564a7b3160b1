// Context compaction: when the history nears the context window, a model call (no tools) writes a
// handoff summary, and the history becomes: the thread's opening context, the user's recent messages,
// and that summary. Recorded as a `compacted` rollout line (so resume sees the same history) and a
// `contextCompaction` item with the token counts before and after.
import type { HistoryItem, Usage } from "@kiln/protocol";
import { emptyUsage } from "@kiln/protocol";
import type { ModelClient, ModelRequest } from "../model/model-client.ts";
import { type RetryOptions, streamWithRetry } from "../model/retry.ts";
import { estimateTokens } from "../tools/exec-command/truncate-output.ts";

/** What the summarising call is asked. */
export const COMPACTION_PROMPT = `Context compaction: the conversation is about to be cut to fit the context window. Write a handoff summary that lets you continue the work without the earlier messages. Include, in this order and only what applies:
1. The user's goal and every instruction or constraint they gave.
2. The current plan, with each step's status.
3. Files touched (created, changed, deleted) and what changed in each.
4. Decisions made and why; approaches tried that failed.
5. Important command results (test status, errors still open).
6. Open questions and the next steps.
Be concise and concrete (paths, names, numbers). Reply with the summary only.`;

/** Tokens of user messages kept verbatim after a compaction. */
const KEPT_USER_TOKENS = 8_000;

/** Estimated tokens of one history item. */
export function itemTokens(item: HistoryItem): number {
  return estimateTokens(JSON.stringify(item));
}

/** Estimated tokens of a whole history. */
export function historyTokens(history: HistoryItem[]): number {
  return history.reduce((sum, item) => sum + itemTokens(item), 0);
}

/** The result of a compaction. */
export interface Compaction {
  summary: string;
  history: HistoryItem[];
  tokensBefore: number;
  tokensAfter: number;
  usage: Usage;
}

/** Summarises `history` with a model call and builds the replacement history. */
export async function compactHistory(args: {
  model: ModelClient;
  request: Omit<ModelRequest, "input" | "tools">;
  history: HistoryItem[];
  /** How many leading items are the thread's opening context (developer + environment messages). */
  openingItems: number;
  retry: RetryOptions;
  signal: AbortSignal;
}): Promise<Compaction> {
  const prompt: HistoryItem = {
    type: "message",
    role: "user",
    content: [{ type: "input_text", text: COMPACTION_PROMPT }],
  };
  // Without tools in the request, tool calls and results travel as text: every wire accepts that
  // (Anthropic rejects tool_use blocks when no tools are declared).
  const request: ModelRequest = {
    ...args.request,
    input: [...args.history.map(toolItemAsText), prompt],
    tools: [],
    outputSchema: undefined,
  };
  let summary = "";
  let usage = emptyUsage();
  for await (const event of streamWithRetry(args.model, request, args.signal, args.retry)) {
    if (event.type === "retrying") summary = "";
    if (event.type === "item_done" && event.item.type === "message" && event.item.role === "assistant") {
      summary += event.item.content.map((c) => (c.type === "input_image" ? "" : c.text)).join("");
    }
    if (event.type === "completed") usage = event.usage;
  }
  const history = rebuildHistory(args.history, args.openingItems, summary.trim());
  return {
    summary: summary.trim(),
    history,
    tokensBefore: historyTokens(args.history),
    tokensAfter: historyTokens(history),
    usage,
  };
}

/** Opening context + the most recent user messages (up to a budget) + the summary. */
export function rebuildHistory(history: HistoryItem[], openingItems: number, summary: string): HistoryItem[] {
  const opening = history.slice(0, openingItems);
  const userMessages = history
    .slice(openingItems)
    .filter((i) => i.type === "message" && i.role === "user" && !isSummary(i));
  const kept: HistoryItem[] = [];
  let budget = KEPT_USER_TOKENS;
  for (const message of userMessages.reverse()) {
    const tokens = itemTokens(message);
    if (tokens > budget) break;
    budget -= tokens;
    kept.unshift(message);
  }
  const summaryItem: HistoryItem = {
    type: "message",
    role: "user",
    content: [{ type: "input_text", text: `<context_summary>\n${summary}\n</context_summary>` }],
  };
  return [...opening, ...kept, summaryItem];
}

function isSummary(item: HistoryItem): boolean {
  return (
    item.type === "message" &&
    item.content.some((c) => c.type === "input_text" && c.text.startsWith("<context_summary>"))
  );
}

/** A tool call or result as a plain message, for the summarising request. */
function toolItemAsText(item: HistoryItem): HistoryItem {
  switch (item.type) {
    case "function_call":
      return {
        type: "message",
        role: "assistant",
        content: [{ type: "output_text", text: `[called ${item.name} ${item.arguments}]` }],
      };
    case "custom_tool_call":
      return {
        type: "message",
        role: "assistant",
        content: [{ type: "output_text", text: `[called ${item.name}]\n${item.input}` }],
      };
    case "function_call_output":
    case "custom_tool_call_output":
      return {
        type: "message",
        role: "user",
        content: [{ type: "input_text", text: `[tool result]\n${item.output}` }],
      };
    case "reasoning":
      return {
        type: "message",
        role: "assistant",
        content: [{ type: "output_text", text: item.summary.map((s) => s.text).join("\n") }],
      };
    case "message":
      return item;
    default: {
      const never: never = item;
      return never;
    }
  }
}
