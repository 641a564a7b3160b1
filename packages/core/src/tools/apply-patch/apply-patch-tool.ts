// The apply_patch tool: a freeform (custom) tool on the Responses wire, a function with one `input`
// string elsewhere. The patch is parsed first so the file-change card can show what will change, then
// applied atomically on the host within the sandbox policy's writable roots.
import { type FileChangeItem, type HistoryToolCall, KilnError } from "@kiln/protocol";
import { parseJsonArguments, type Tool, type ToolContext, ToolError } from "../tool.ts";
import { applyPatch } from "./apply-patch.ts";
import { APPLY_PATCH_DESCRIPTION } from "./description.ts";
import { APPLY_PATCH_LARK_GRAMMAR } from "./grammar.ts";
import { type ParsedPatch, parsePatch } from "./parse-patch.ts";

interface ApplyPatchArgs {
  patch: string;
  parsed: ParsedPatch;
}

/** The apply_patch tool. */
export function createApplyPatchTool(shape: "freeform" | "function" = "freeform"): Tool<ApplyPatchArgs> {
  return {
    name: "apply_patch",
    // Models trained for the freeform tool get the grammar; others (per the model catalog) a function
    // with one string argument `input`. Calls of either shape are accepted.
    spec:
      shape === "freeform"
        ? {
            type: "custom",
            name: "apply_patch",
            description: APPLY_PATCH_DESCRIPTION,
            format: { type: "grammar", syntax: "lark", definition: APPLY_PATCH_LARK_GRAMMAR },
          }
        : {
            type: "function",
            name: "apply_patch",
            description: APPLY_PATCH_DESCRIPTION,
            parameters: {
              type: "object",
              properties: {
                input: { type: "string", description: "The entire patch, *** Begin Patch to *** End Patch" },
              },
              required: ["input"],
              additionalProperties: false,
            },
          },
    parse(call: HistoryToolCall) {
      const patch = patchText(call);
      try {
        return { patch, parsed: parsePatch(patch) };
      } catch (error) {
        throw ToolError.respondToModel(error instanceof Error ? error.message : String(error));
      }
    },
    isMutating: () => true,
    execute: (args, ctx) => runApplyPatch(args, ctx),
  };
}

function patchText(call: HistoryToolCall): string {
  if (call.type === "custom_tool_call") return call.input;
  const args = parseJsonArguments(call) as { input?: unknown; patch?: unknown };
  const text = typeof args.input === "string" ? args.input : args.patch;
  if (typeof text !== "string")
    throw ToolError.respondToModel("apply_patch takes one string argument `input`: the patch");
  return text;
}

async function runApplyPatch(args: ApplyPatchArgs, ctx: ToolContext): Promise<string> {
  const item: FileChangeItem = {
    id: ctx.newItemId(),
    type: "fileChange",
    changes: args.parsed.hunks.map((h) => ({
      path: h.path,
      kind: h.type,
      ...(h.type === "update" && h.movePath !== undefined ? { movePath: h.movePath } : {}),
    })),
    status: "in_progress",
  };
  const policy = ctx.sandboxPolicy;
  if (policy.mode === "read-only") {
    const decision = await ctx.askApproval({
      kind: "patch",
      callId: ctx.callId,
      summary: item.changes.map((c) => `${c.kind} ${c.path}`).join(", "),
      reason: "the sandbox is read-only",
      escalated: true,
    });
    if (decision === "aborted")
      throw new KilnError("turn_interrupted", "the turn was aborted at an approval");
    if (decision === "denied") {
      ctx.emit({ type: "item/completed", item: { ...item, status: "declined" } });
      return "The patch was not applied: the sandbox is read-only and the user did not approve writing. Do not retry it; explain what you would change instead.";
    }
  }
  ctx.emit({ type: "item/started", item });
  try {
    const writableRoots = policy.mode === "read-only" ? [ctx.cwd] : [ctx.cwd, ...policy.writableRoots];
    const result = await applyPatch(args.patch, { cwd: ctx.cwd, writableRoots, signal: ctx.signal });
    const changes = result.changes.map((c) => ({
      path: c.path,
      kind: c.kind,
      diff: c.diff,
      ...(c.movePath === undefined ? {} : { movePath: c.movePath }),
    }));
    ctx.emit({ type: "item/completed", item: { ...item, changes, status: "completed" } });
    return result.summary;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    ctx.emit({ type: "item/completed", item: { ...item, status: "failed", error: message } });
    if (error instanceof KilnError && error.code !== "patch_invalid" && error.code !== "path_escape")
      throw error;
    throw ToolError.respondToModel(`${message}\nNothing was changed: patches apply all or nothing.`);
  }
}
