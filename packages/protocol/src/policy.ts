import { z } from "zod";

/** How far an agent's commands may reach outside the workspace. */
export const SandboxMode = z.enum(["read-only", "workspace-write", "danger-full-access"]);
export type SandboxMode = z.infer<typeof SandboxMode>;

/** When the harness asks a person before running a tool call. */
export const ApprovalPolicy = z.enum(["untrusted", "on-failure", "on-request", "never"]);
export type ApprovalPolicy = z.infer<typeof ApprovalPolicy>;

/** Collaboration mode of a turn: plan (read-only, proposes), code (default), execute (autonomous). */
export const CollaborationMode = z.enum(["plan", "code", "execute"]);
export type CollaborationMode = z.infer<typeof CollaborationMode>;

/** Everything a sandbox needs to know to confine one command. */
export const SandboxPolicy = z.object({
  /** The sandbox mode. */
  mode: SandboxMode,
  /** Directories the command may write (the workspace first, then `--add-dir` roots). */
  writableRoots: z.array(z.string()),
  /** Whether outbound network is allowed (only meaningful for `workspace-write`). */
  networkAccess: z.boolean(),
});
export type SandboxPolicy = z.infer<typeof SandboxPolicy>;
