// write_stdin: continues a background exec_command session — sends characters, waits a little for
// output, and reports the exit code once the process has ended.
import { z } from "zod";
import { describeArgumentError, parseJsonArguments, type Tool, ToolError } from "../tool.ts";
import { formatResult } from "./exec-command.ts";
import { collect } from "./exec-sessions.ts";
import { truncateOutput } from "./truncate-output.ts";
import description from "./write-stdin.md";

const WriteStdinArgs = z.object({
  session_id: z.number().int(),
  chars: z.string().optional(),
  yield_time_ms: z.number().int().min(0).max(300_000).optional(),
  max_output_tokens: z.number().int().positive().optional(),
});
type WriteStdinArgs = z.infer<typeof WriteStdinArgs>;

/** The write_stdin tool. */
export function createWriteStdinTool(): Tool<WriteStdinArgs> {
  return {
    name: "write_stdin",
    spec: {
      type: "function",
      name: "write_stdin",
      description,
      parameters: {
        type: "object",
        properties: {
          session_id: { type: "number", description: "Session id returned by exec_command." },
          chars: { type: "string", description: "Characters to write (may be empty)." },
          yield_time_ms: { type: "number", description: "How long to wait for output." },
          max_output_tokens: { type: "number", description: "Maximum number of tokens to return." },
        },
        required: ["session_id"],
        additionalProperties: false,
      },
    },
    parse(call) {
      const parsed = WriteStdinArgs.safeParse(parseJsonArguments(call));
      if (!parsed.success)
        throw ToolError.respondToModel(describeArgumentError("write_stdin", parsed.error.issues));
      return parsed.data;
    },
    isMutating: () => true,
    async execute(args, ctx) {
      const session = ctx.sessions.get(args.session_id);
      if (session === undefined) {
        throw ToolError.respondToModel(
          `no running session with id ${args.session_id}; it may have exited already`,
        );
      }
      if (args.chars !== undefined && args.chars !== "" && session.exit === undefined)
        session.process.write(args.chars);
      const started = performance.now();
      const { output, exited } = await collect(session, args.yield_time_ms ?? 250, ctx.signal);
      const shown = truncateOutput(output, args.max_output_tokens ?? ctx.outputTokenLimit);
      const wallMs = Math.round(performance.now() - started);
      const item = {
        id: ctx.newItemId(),
        type: "commandExecution" as const,
        command: session.command,
        cwd: session.cwd,
        aggregatedOutput: shown,
        durationMs: wallMs,
      };
      if (!exited) {
        ctx.emit({
          type: "item/completed",
          item: { ...item, exitCode: null, status: "in_progress", sessionId: session.id },
        });
        return formatResult({ sessionId: session.id, wallMs, output: shown });
      }
      ctx.sessions.release(session.id);
      const exitCode = session.exit?.exitCode ?? -1;
      ctx.emit({
        type: "item/completed",
        item: { ...item, exitCode, status: exitCode === 0 ? "completed" : "failed" },
      });
      return formatResult({ exitCode, wallMs, output: shown });
    },
  };
}
