import { z } from "zod";
import { ErrorInfo } from "./errors.ts";
import { ApprovalPolicy, CollaborationMode, SandboxMode } from "./policy.ts";
import { Usage } from "./usage.ts";

/** A conversation with an agent: its settings and where it came from. */
export const ThreadInfo = z.object({
  id: z.string(),
  /** Unix ms. */
  createdAt: z.number(),
  /** Working directory of the agent (the workspace). */
  cwd: z.string(),
  model: z.string(),
  modelProvider: z.string(),
  sandbox: SandboxMode,
  approvalPolicy: ApprovalPolicy,
  mode: CollaborationMode,
  /** Extra writable roots (`--add-dir`). */
  additionalDirectories: z.array(z.string()).default([]),
  /** The parent thread, for sub-agents and forks. */
  parentThreadId: z.string().optional(),
  /** First words of the first prompt. */
  preview: z.string().optional(),
});
export type ThreadInfo = z.infer<typeof ThreadInfo>;

/** How a turn ended. */
export const TurnStatus = z.enum(["in_progress", "completed", "failed", "interrupted"]);
export type TurnStatus = z.infer<typeof TurnStatus>;

/** One prompt and everything the agent did for it. */
export const TurnInfo = z.object({
  id: z.string(),
  status: TurnStatus,
  startedAt: z.number(),
  completedAt: z.number().optional(),
  usage: Usage.optional(),
  error: ErrorInfo.optional(),
});
export type TurnInfo = z.infer<typeof TurnInfo>;
