// The live sandbox service (exec, terminals, files, status, idle stop, resource limits) that the
// server's /sandboxes routes wrap.
export { collectExec, defaultCollectLimit } from "./collect-exec.ts";
export { defaultExecTimeoutMs, type ExecRequest } from "./exec-stream.ts";
export type { LiveSandbox, LiveSandboxSpec } from "./live-sandbox.ts";
export type { LimitMechanism, LimitPreference, SandboxLimits } from "./resource-limits.ts";
export {
  createSandboxManager,
  defaultIdleTimeoutMs,
  type SandboxManager,
  type SandboxManagerOptions,
} from "./sandbox-manager.ts";
export type { TerminalOptions, TerminalSession } from "./terminal-session.ts";
export {
  type DirectoryListing,
  defaultReadLimit,
  type FileContent,
  type WorkspaceFiles,
} from "./workspace-files.ts";
