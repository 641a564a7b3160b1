// What a hook process reads on stdin and may print on stdout. These shapes cross a process boundary
// (the user's hook programs), so they are zod schemas with snake_case keys, like the config keys.
import { z } from "zod";

/** The JSON a hook receives on stdin (one object, then a newline). */
export const HookInput = z.object({
  /** `session_start` | `pre_tool_use` | `post_tool_use` | `stop`. */
  event: z.enum(["session_start", "pre_tool_use", "post_tool_use", "stop"]),
  thread_id: z.string(),
  /** Set for every event but `session_start`. */
  turn_id: z.string().optional(),
  /** The thread's working directory (also the hook's cwd). */
  cwd: z.string(),
  /** Tool events: the tool's name, e.g. `exec_command`. */
  tool_name: z.string().optional(),
  /** Tool events: the call's parsed JSON arguments, or the text of a freeform call (apply_patch's patch). */
  tool_input: z.unknown().optional(),
  /** `post_tool_use`: the output the model is given. */
  tool_output: z.string().optional(),
  /** `stop`: the turn's final message. */
  final_message: z.string().optional(),
});
export type HookInput = z.infer<typeof HookInput>;

/** What a hook may print on stdout (exit code 0) to decide; anything else on stdout is ignored. */
export const HookDecision = z.looseObject({
  /** `block` stops a `pre_tool_use` call; `allow` (or `approve`, or nothing) lets it run. */
  decision: z.enum(["block", "allow", "approve"]).optional(),
  /** Why: given to the model when the call is blocked. */
  reason: z.string().optional(),
});
export type HookDecision = z.infer<typeof HookDecision>;
