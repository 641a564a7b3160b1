// Runs one model response's tool calls: consecutive read-only calls run together, each mutating call
// runs alone, in the order the model made them. Each output is handed to `onOutput` as soon as its
// group finishes, so the caller can journal it before the next call starts.
import type { HistoryItem, HistoryToolCall } from "@kiln/protocol";
import { KilnError } from "@kiln/protocol";
import { type Tool, type ToolContext, ToolError } from "./tool.ts";

/** The tools offered in a turn, by name. */
export type ToolSet = ReadonlyMap<string, Tool>;

interface Prepared {
  call: HistoryToolCall;
  tool: Tool | undefined;
  args: unknown;
  error: ToolError | undefined;
  mutating: boolean;
}

/** Runs the calls and reports each output in call order. Errors other than ToolError end the turn. */
export async function runToolCalls(
  calls: HistoryToolCall[],
  tools: ToolSet,
  contextFor: (call: HistoryToolCall) => ToolContext,
  onOutput: (output: HistoryItem) => void,
): Promise<void> {
  const prepared = calls.map((call) => prepare(call, tools));
  let index = 0;
  while (index < prepared.length) {
    const group: Prepared[] = [];
    const first = prepared[index];
    if (first === undefined) break;
    if (first.mutating) {
      group.push(first);
      index++;
    } else {
      while (index < prepared.length && prepared[index]?.mutating === false) {
        group.push(prepared[index] as Prepared);
        index++;
      }
    }
    const outputs = await Promise.all(group.map((p) => execute(p, contextFor(p.call))));
    for (const [i, p] of group.entries()) onOutput(outputItem(p.call, outputs[i] ?? ""));
  }
}

function prepare(call: HistoryToolCall, tools: ToolSet): Prepared {
  const tool = tools.get(call.name);
  if (tool === undefined) {
    const known = [...tools.keys()].join(", ");
    return {
      call,
      tool,
      args: undefined,
      mutating: false,
      error: ToolError.respondToModel(`unknown tool "${call.name}"; available tools: ${known}`),
    };
  }
  try {
    const args = tool.parse(call);
    return { call, tool, args, mutating: tool.isMutating(args), error: undefined };
  } catch (error) {
    if (error instanceof ToolError) return { call, tool, args: undefined, mutating: false, error };
    throw error;
  }
}

async function execute(p: Prepared, ctx: ToolContext): Promise<string> {
  if (p.error !== undefined || p.tool === undefined) return `Error: ${p.error?.message ?? "unknown tool"}`;
  try {
    return await p.tool.execute(p.args, ctx);
  } catch (error) {
    if (error instanceof ToolError) return `Error: ${error.message}`;
    if (error instanceof KilnError && error.code === "sandbox_denied") return `Error: ${error.message}`;
    throw error;
  }
}

/** The history item carrying a call's output back to the model. */
export function outputItem(call: HistoryToolCall, output: string): HistoryItem {
  return call.type === "custom_tool_call"
    ? { type: "custom_tool_call_output", call_id: call.call_id, output }
    : { type: "function_call_output", call_id: call.call_id, output };
}
