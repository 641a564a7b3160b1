import { z } from "zod";

/** Default time a hook may take before it is killed (and the call goes on, with a warning). */
export const DEFAULT_HOOK_TIMEOUT_MS = 10_000;

/** One `[[hooks.<event>]]` entry: a program of the user's, run on the host (not sandboxed). */
export const HookDefinition = z.strictObject({
  /** Regular expression matched against the whole tool name (tool events only); omitted, "" or "*" = all tools. */
  matcher: z
    .string()
    .refine(isRegExp, { message: 'not a valid regular expression (e.g. "exec_command|apply_patch")' })
    .optional(),
  /** argv (`["node", "/path/guard.js"]`), or a string run with `/bin/sh -c`. */
  command: z.union([
    z.string().min(1, "command must not be empty"),
    z.array(z.string()).min(1, "command must not be empty"),
  ]),
  /** Kill the hook after this many ms (default 10 000). */
  timeout_ms: z.number().int().positive().max(600_000).optional(),
});
export type HookDefinition = z.infer<typeof HookDefinition>;

/** The `[hooks]` table: the hooks of each event, run in order. A misspelt event is an error, not ignored. */
export const HooksConfig = z.strictObject({
  /** When a thread starts (or resumes). */
  session_start: z.array(HookDefinition).default([]),
  /** Before a tool call runs; may block it (exit 2, or `{"decision":"block"}` on stdout). */
  pre_tool_use: z.array(HookDefinition).default([]),
  /** After a tool call ran, with its output. */
  post_tool_use: z.array(HookDefinition).default([]),
  /** When a turn ends, with the final message. */
  stop: z.array(HookDefinition).default([]),
});
export type HooksConfig = z.infer<typeof HooksConfig>;

/** The events hooks run on. */
export type HookEvent = keyof HooksConfig;

function isRegExp(source: string): boolean {
  if (source === "*") return true; // "every tool", as in other agents' hook configs
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}
