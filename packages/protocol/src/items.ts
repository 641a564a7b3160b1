import { z } from "zod";
import { ErrorInfo } from "./errors.ts";

/** One part of a user's input. */
export const InputPart = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text"), text: z.string() }),
  /** A local image file, sent to the model as a data URL. */
  z.object({ type: z.literal("localImage"), path: z.string() }),
]);
export type InputPart = z.infer<typeof InputPart>;

/** Status of an item that runs (commands, file changes, tool calls). */
export const ItemStatus = z.enum(["in_progress", "completed", "failed", "declined", "interrupted"]);
export type ItemStatus = z.infer<typeof ItemStatus>;

/** The kind of change one file went through. */
export const FileChangeKind = z.enum(["add", "delete", "update"]);
export type FileChangeKind = z.infer<typeof FileChangeKind>;

/** A step of the agent's plan. */
export const PlanStep = z.object({
  step: z.string(),
  status: z.enum(["pending", "in_progress", "completed"]),
});
export type PlanStep = z.infer<typeof PlanStep>;

const base = { id: z.string() };

/** What the user said. */
export const UserMessageItem = z.object({
  ...base,
  type: z.literal("userMessage"),
  content: z.array(InputPart),
});
/** What the agent said. */
export const AgentMessageItem = z.object({ ...base, type: z.literal("agentMessage"), text: z.string() });
/** A summary of the model's reasoning. */
export const ReasoningItem = z.object({ ...base, type: z.literal("reasoning"), text: z.string() });
/** A command run by `exec_command` (or continued by `write_stdin`). */
export const CommandExecutionItem = z.object({
  ...base,
  type: z.literal("commandExecution"),
  command: z.string(),
  cwd: z.string(),
  /** stdout and stderr as they arrived, capped for the model as the tool output is. */
  aggregatedOutput: z.string(),
  exitCode: z.number().int().nullable(),
  durationMs: z.number().nonnegative().nullable(),
  status: ItemStatus,
  /** Set while the command keeps running in the background after `yield_time_ms`. */
  sessionId: z.number().int().optional(),
});
/** A patch applied by `apply_patch`. */
export const FileChangeItem = z.object({
  ...base,
  type: z.literal("fileChange"),
  changes: z.array(
    z.object({
      path: z.string(),
      kind: FileChangeKind,
      movePath: z.string().optional(),
      /** Unified diff of this file. */
      diff: z.string().optional(),
    }),
  ),
  status: ItemStatus,
  /** Why the patch failed, when it did. */
  error: z.string().optional(),
});
/** The agent's plan (`update_plan`). */
export const PlanItem = z.object({
  ...base,
  type: z.literal("plan"),
  explanation: z.string().optional(),
  steps: z.array(PlanStep),
});
/** A call to an MCP server's tool. */
export const McpToolCallItem = z.object({
  ...base,
  type: z.literal("mcpToolCall"),
  server: z.string(),
  tool: z.string(),
  arguments: z.unknown(),
  result: z.unknown().optional(),
  error: z.string().optional(),
  status: ItemStatus,
});
/** A call to a tool registered by an embedding program, or any other tool. */
export const ToolCallItem = z.object({
  ...base,
  type: z.literal("toolCall"),
  tool: z.string(),
  arguments: z.unknown(),
  output: z.string().optional(),
  status: ItemStatus,
});
/** A child agent spawned by this thread. */
export const SubAgentItem = z.object({
  ...base,
  type: z.literal("subAgent"),
  childThreadId: z.string(),
  prompt: z.string(),
  status: ItemStatus,
  result: z.string().optional(),
});
/** History replaced by a summary. */
export const ContextCompactionItem = z.object({
  ...base,
  type: z.literal("contextCompaction"),
  summary: z.string(),
  tokensBefore: z.number().int().nonnegative(),
  tokensAfter: z.number().int().nonnegative(),
});
/** A person's answer to an approval request (`pending` until answered). */
export const ApprovalDecision = z.enum([
  "pending",
  "approved",
  "approved_for_session",
  "approved_prefix",
  "denied",
  "aborted",
]);
export type ApprovalDecisionValue = z.infer<typeof ApprovalDecision>;

/**
 * A request for a person's decision. Started (`pending`) when asked, completed when answered; one that
 * was never completed is still pending after a crash, and is asked again when the thread resumes.
 */
export const ApprovalItem = z.object({
  ...base,
  type: z.literal("approval"),
  /** The tool call waiting for the decision. */
  callId: z.string(),
  kind: z.enum(["command", "patch", "tool", "plan"]),
  /** What would run: the command, the files of a patch, the tool call. */
  summary: z.string(),
  /** Why it is asked: the model's justification, a sandbox failure. */
  reason: z.string().optional(),
  /** The call would run outside the sandbox. */
  escalated: z.boolean().optional(),
  /** A command prefix the model proposed for approving similar commands (`prefix_rule`). */
  prefixRule: z.array(z.string()).optional(),
  decision: ApprovalDecision,
});
export type ApprovalItem = z.infer<typeof ApprovalItem>;
/** An error shown in the conversation (the turn may go on). */
export const ErrorItem = z.object({ ...base, type: z.literal("error"), error: ErrorInfo });

/** Everything that can appear in a turn. */
export const ThreadItem = z.discriminatedUnion("type", [
  UserMessageItem,
  AgentMessageItem,
  ReasoningItem,
  CommandExecutionItem,
  FileChangeItem,
  PlanItem,
  McpToolCallItem,
  ToolCallItem,
  SubAgentItem,
  ContextCompactionItem,
  ApprovalItem,
  ErrorItem,
]);
export type ThreadItem = z.infer<typeof ThreadItem>;
export type UserMessageItem = z.infer<typeof UserMessageItem>;
export type AgentMessageItem = z.infer<typeof AgentMessageItem>;
export type ReasoningItem = z.infer<typeof ReasoningItem>;
export type CommandExecutionItem = z.infer<typeof CommandExecutionItem>;
export type FileChangeItem = z.infer<typeof FileChangeItem>;
export type PlanItem = z.infer<typeof PlanItem>;
export type McpToolCallItem = z.infer<typeof McpToolCallItem>;
export type ToolCallItem = z.infer<typeof ToolCallItem>;
export type ErrorItem = z.infer<typeof ErrorItem>;
export type ContextCompactionItem = z.infer<typeof ContextCompactionItem>;
export type SubAgentItem = z.infer<typeof SubAgentItem>;
