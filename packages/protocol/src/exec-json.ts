import { z } from "zod";

/**
 * `kiln exec --json` output: the event and item names `codex exec --json` prints (see
 * shared/spec/exec-json.md). Kiln may add fields but never renames or removes these.
 */
export const ExecItem = z.discriminatedUnion("type", [
  z.object({ id: z.string(), type: z.literal("agent_message"), text: z.string() }),
  z.object({ id: z.string(), type: z.literal("reasoning"), text: z.string() }),
  z.object({
    id: z.string(),
    type: z.literal("command_execution"),
    command: z.string(),
    aggregated_output: z.string(),
    exit_code: z.number().int().nullable(),
    status: z.enum(["in_progress", "completed", "failed", "declined"]),
    duration_ms: z.number().optional(),
  }),
  z.object({
    id: z.string(),
    type: z.literal("file_change"),
    changes: z.array(
      z.object({ path: z.string(), kind: z.enum(["add", "delete", "update"]), diff: z.string().optional() }),
    ),
    status: z.enum(["in_progress", "completed", "failed"]),
  }),
  z.object({
    id: z.string(),
    type: z.literal("todo_list"),
    items: z.array(z.object({ text: z.string(), completed: z.boolean() })),
  }),
  z.object({
    id: z.string(),
    type: z.literal("mcp_tool_call"),
    server: z.string(),
    tool: z.string(),
    status: z.enum(["in_progress", "completed", "failed"]),
    arguments: z.unknown().optional(),
    result: z.unknown().optional(),
    error: z.object({ message: z.string() }).optional(),
  }),
  z.object({ id: z.string(), type: z.literal("web_search"), query: z.string() }),
  z.object({ id: z.string(), type: z.literal("error"), message: z.string() }),
]);
export type ExecItem = z.infer<typeof ExecItem>;

/** Codex-compatible usage totals of a turn. */
export const ExecUsage = z.object({
  input_tokens: z.number().int(),
  cached_input_tokens: z.number().int(),
  output_tokens: z.number().int(),
  reasoning_output_tokens: z.number().int(),
});
export type ExecUsage = z.infer<typeof ExecUsage>;

/** One line of `kiln exec --json`. */
export const ExecEvent = z.discriminatedUnion("type", [
  z.object({ type: z.literal("thread.started"), thread_id: z.string() }),
  z.object({ type: z.literal("turn.started") }),
  z.object({ type: z.literal("item.started"), item: ExecItem }),
  z.object({ type: z.literal("item.updated"), item: ExecItem }),
  z.object({ type: z.literal("item.completed"), item: ExecItem }),
  z.object({ type: z.literal("turn.completed"), usage: ExecUsage }),
  z.object({ type: z.literal("turn.failed"), error: z.object({ message: z.string() }) }),
  z.object({ type: z.literal("error"), message: z.string() }),
]);
export type ExecEvent = z.infer<typeof ExecEvent>;
