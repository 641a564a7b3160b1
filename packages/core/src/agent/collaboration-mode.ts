import type { ApprovalPolicy, CollaborationMode, SandboxPolicy } from "@kiln/protocol";
import { type Tool, ToolError } from "../tools/tool.ts";

/** What the model is told when a turn runs in a mode (recorded in the history when the mode changes). */
export function modeInstructions(mode: CollaborationMode): string {
  switch (mode) {
    case "plan":
      return `<collaboration_mode>plan</collaboration_mode>
You are in PLAN mode. Explore the repository with read-only commands (the sandbox is read-only and apply_patch is not available), ask nothing, change nothing. Then answer with a concrete, numbered implementation plan: the files to change and how, the tests to add or run, and the risks. Put the plan between <proposed_plan> and </proposed_plan>. The user will approve it before anything is changed.`;
    case "execute":
      return `<collaboration_mode>execute</collaboration_mode>
You are in EXECUTE mode: work autonomously to the end. Nobody will answer questions or approvals: make reasonable assumptions, state them in your final message, and finish the task.`;
    case "code":
      return "<collaboration_mode>code</collaboration_mode>\nYou are in CODE mode: make the change, verify it, and report.";
    default: {
      const never: never = mode;
      return never;
    }
  }
}

/** Tools a mode offers (plan mode cannot write files). */
export function toolAllowed(mode: CollaborationMode, tool: string): boolean {
  return mode !== "plan" || (tool !== "apply_patch" && tool !== "write_stdin" && tool !== "spawn_agent");
}

/** The sandbox policy a mode runs commands with (plan mode: read-only whatever was configured). */
export function modeSandboxPolicy(mode: CollaborationMode, policy: SandboxPolicy): SandboxPolicy {
  return mode === "plan" ? { ...policy, mode: "read-only", networkAccess: false } : policy;
}

/**
 * The approval policy a mode runs with: execute never asks, and plan never asks either (nothing may be
 * escalated out of its read-only sandbox).
 */
export function modeApprovalPolicy(mode: CollaborationMode, policy: ApprovalPolicy): ApprovalPolicy {
  return mode === "execute" || mode === "plan" ? "never" : policy;
}

/** Tools whose effects plan mode already confines (commands run in a read-only sandbox). */
const CONFINED_IN_PLAN_MODE = new Set(["exec_command", "update_plan", "load_skill", "wait_agent"]);

/**
 * A tool as plan mode offers it: tools that act outside the sandbox (MCP servers, the embedding
 * program's tools) refuse calls they declare as mutating.
 */
export function planModeTool(tool: Tool): Tool {
  if (CONFINED_IN_PLAN_MODE.has(tool.name)) return tool;
  return {
    ...tool,
    async execute(args, ctx) {
      if (tool.isMutating(args)) {
        throw ToolError.respondToModel(
          `plan mode is read-only: ${tool.name} may change things, so it was not called. Put it in the plan instead.`,
        );
      }
      return tool.execute(args, ctx);
    },
  };
}

/** The plan inside a plan-mode answer (the whole answer when the tags are missing). */
export function extractProposedPlan(text: string): string {
  const match = /<proposed_plan>([\s\S]*?)<\/proposed_plan>/.exec(text);
  return (match?.[1] ?? text).trim();
}
