import { readFile } from "node:fs/promises";
import { z } from "zod";

/**
 * A scenario is the script the fake model server follows: one step per model request. It is the only
 * input a test or benchmark gives the fake model, so it is a zod schema that can be loaded from JSON.
 */

/** One output item the fake model "says", in the order given. */
export const OutputSpec = z.discriminatedUnion("type", [
  z.strictObject({
    /** An assistant message with one `output_text` part. */
    type: z.literal("message"),
    /** The whole text; streamed in a few deltas. */
    text: z.string(),
  }),
  z.strictObject({
    /** A reasoning item with one summary part (skipped on Chat Completions). */
    type: z.literal("reasoning"),
    /** The summary text. */
    summary: z.string(),
  }),
  z.strictObject({
    /** A Codex-style `exec_command` function call. */
    type: z.literal("exec_command"),
    /** The shell command. */
    cmd: z.string(),
    /** Working directory for the command. */
    workdir: z.string().optional(),
    /** How long to wait for output before returning a session id. */
    yield_time_ms: z.number().int().nonnegative().optional(),
    /** Output truncation budget. */
    max_output_tokens: z.number().int().nonnegative().optional(),
    /** Run in a pseudo-terminal. */
    tty: z.boolean().optional(),
    /** `use_default` or `require_escalated`. */
    sandbox_permissions: z.string().optional(),
    /** Why escalation is needed. */
    justification: z.string().optional(),
    /** Command prefix to approve for the rest of the session. */
    prefix_rule: z.array(z.string()).optional(),
  }),
  z.strictObject({
    /** A Codex-style `write_stdin` function call continuing an `exec_command` session. */
    type: z.literal("write_stdin"),
    /** The session id returned by `exec_command`. */
    session_id: z.number().int().nonnegative(),
    /** Characters to write (may be empty to just poll). */
    chars: z.string().optional(),
    /** How long to wait for output. */
    yield_time_ms: z.number().int().nonnegative().optional(),
  }),
  z.strictObject({
    /** An `apply_patch` call: a `custom_tool_call` on /responses, a function call `{"input": patch}` on chat. */
    type: z.literal("apply_patch"),
    /** The raw patch text (`*** Begin Patch` … `*** End Patch`). */
    patch: z.string(),
  }),
  z.strictObject({
    /** An `update_plan` function call. */
    type: z.literal("update_plan"),
    /** The plan steps. */
    plan: z.array(
      z.strictObject({
        /** What the step does. */
        step: z.string(),
        /** Where the step stands. */
        status: z.enum(["pending", "in_progress", "completed"]),
      }),
    ),
    /** Why the plan changed. */
    explanation: z.string().optional(),
  }),
  z.strictObject({
    /** Any other function tool call. */
    type: z.literal("function_call"),
    /** The tool name. */
    name: z.string().min(1),
    /** The arguments: serialized with JSON.stringify, except a string, which is sent verbatim (so a
     *  scenario can send malformed JSON on purpose). */
    arguments: z.unknown(),
  }),
]);
export type OutputSpec = z.infer<typeof OutputSpec>;

/** Token usage reported for a step. */
export const ScenarioUsage = z.strictObject({
  /** Prompt tokens. */
  input_tokens: z.number().int().nonnegative(),
  /** Of which served from the prompt cache. */
  cached_tokens: z.number().int().nonnegative().optional(),
  /** Completion tokens (reasoning included). */
  output_tokens: z.number().int().nonnegative(),
  /** Of which spent reasoning. */
  reasoning_tokens: z.number().int().nonnegative().optional(),
});
export type ScenarioUsage = z.infer<typeof ScenarioUsage>;

/** A failure injected into a request, instead of or in the middle of a normal answer. */
export const ScenarioFault = z.discriminatedUnion("type", [
  z.strictObject({
    /** Stream some events, then destroy the socket before `response.completed` / `[DONE]`. */
    type: z.literal("disconnect"),
    /** How many SSE events to send first (default: up to the end of the first output item). */
    afterEvents: z.number().int().nonnegative().optional(),
  }),
  z.strictObject({
    /** Answer with an HTTP error instead of a stream. */
    type: z.literal("http"),
    /** The status code, e.g. 429 or 500. */
    status: z.number().int().min(400).max(599),
    /** `retry-after` header, in seconds. */
    retryAfter: z.number().nonnegative().optional(),
    /** `retry-after-ms` header, in milliseconds. */
    retryAfterMs: z.number().nonnegative().optional(),
    /** The JSON body (default: an OpenAI-shaped `{error:{message,type,param,code}}` for the status). */
    body: z.unknown().optional(),
  }),
  z.strictObject({
    /** Stream the step's output (if any), then `response.failed` (an `error` chunk on chat). */
    type: z.literal("response_failed"),
    /** The error message. */
    message: z.string().optional(),
  }),
]);
export type ScenarioFault = z.infer<typeof ScenarioFault>;

/** What the fake model does for one request. */
export const ScenarioStep = z.strictObject({
  /** Serve this step only to a request whose body contains `bodyIncludes` (lets concurrent threads share
   *  one server). The first unconsumed step that matches, or has no `when`, is served. */
  when: z.strictObject({ bodyIncludes: z.string().min(1) }).optional(),
  /** Output items, in order. */
  output: z.array(OutputSpec).optional(),
  /** Reported usage (default: estimated from the request body and output lengths, 4 characters a token). */
  usage: ScenarioUsage.optional(),
  /** Delay before each SSE chunk, in ms. */
  chunkDelayMs: z.number().nonnegative().optional(),
  /** Fault to inject. */
  fault: ScenarioFault.optional(),
  /** Serve this step this many times (default 1). */
  repeat: z.number().int().positive().optional(),
});
export type ScenarioStep = z.infer<typeof ScenarioStep>;

/** The fake model's script: one step per model request, consumed in order. */
export const Scenario = z.strictObject({
  /** The steps. */
  steps: z.array(ScenarioStep),
});
export type Scenario = z.infer<typeof Scenario>;

/** Validates a scenario given in code; `source` names it in the error. */
export function parseScenario(value: unknown, source = "scenario"): Scenario {
  const result = Scenario.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `  ${formatPath(issue.path)}: ${issue.message}`);
  throw new Error(`Invalid scenario ${source}:\n${problems.join("\n")}`);
}

/** Reads, parses and validates a scenario JSON file; errors name the file and the offending field. */
export async function loadScenario(path: string): Promise<Scenario> {
  const text = await readFile(path, "utf8").catch((error: unknown) => {
    throw new Error(`Cannot read scenario file ${path}: ${errorMessage(error)}`, { cause: error });
  });
  const json = parseJson(text, path);
  return parseScenario(json, `file ${path}`);
}

function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`Scenario file ${path} is not valid JSON: ${errorMessage(error)}`, { cause: error });
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "(root)";
  return path
    .map((key, i) => (typeof key === "number" ? `[${key}]` : `${i === 0 ? "" : "."}${String(key)}`))
    .join("");
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
