import { assertNever } from "./assert-never.ts";
import type { OutputSpec } from "./scenario.ts";

/**
 * The wire-neutral form of an output item: what both renderers (Responses and Chat Completions) stream.
 * Every Codex-style tool becomes a function call with JSON arguments, except `apply_patch`, which is a
 * freeform (custom) tool on the Responses wire.
 */
export type ModelOutput =
  | { type: "message"; text: string }
  | { type: "reasoning"; summary: string }
  | { type: "function_call"; name: string; arguments: string }
  | { type: "custom_tool_call"; name: string; input: string };

/** Converts a scenario output spec to the item the model streams. */
export function toModelOutput(spec: OutputSpec): ModelOutput {
  switch (spec.type) {
    case "message":
      return { type: "message", text: spec.text };
    case "reasoning":
      return { type: "reasoning", summary: spec.summary };
    case "exec_command": {
      const { type: _, ...args } = spec;
      return { type: "function_call", name: "exec_command", arguments: JSON.stringify(args) };
    }
    case "write_stdin": {
      const { type: _, ...args } = spec;
      return { type: "function_call", name: "write_stdin", arguments: JSON.stringify(args) };
    }
    case "update_plan": {
      const { type: _, ...args } = spec;
      return { type: "function_call", name: "update_plan", arguments: JSON.stringify(args) };
    }
    case "apply_patch":
      return { type: "custom_tool_call", name: "apply_patch", input: spec.patch };
    case "function_call":
      return {
        type: "function_call",
        name: spec.name,
        arguments: typeof spec.arguments === "string" ? spec.arguments : JSON.stringify(spec.arguments ?? {}),
      };
    default:
      return assertNever(spec);
  }
}

/** Characters the model "generated" for an item: what default usage counts. */
export function generatedText(output: ModelOutput): string {
  switch (output.type) {
    case "message":
      return output.text;
    case "reasoning":
      return output.summary;
    case "function_call":
      return output.arguments;
    case "custom_tool_call":
      return output.input;
    default:
      return assertNever(output);
  }
}

/**
 * Splits streamed text into a few deltas, the way a model streams tokens. Splits on code points, so a
 * surrogate pair is never cut in half. Empty text yields no deltas.
 */
export function splitIntoChunks(text: string, parts = 3): string[] {
  const chars = Array.from(text);
  if (chars.length === 0) return [];
  const size = Math.ceil(chars.length / parts);
  const chunks: string[] = [];
  for (let i = 0; i < chars.length; i += size) chunks.push(chars.slice(i, i + size).join(""));
  return chunks;
}
