import type { TaskEvent } from "@kiln/protocol";
import type { SandboxProvider } from "../types.ts";

type PhaseTaskEvent = Extract<TaskEvent, { type: "environment/phase" }>;
type LogTaskEvent = Extract<TaskEvent, { type: "environment/log" }>;

/**
 * Progress of an environment preparation. Field for field the task events `environment/phase` and
 * `environment/log`: only `type` differs (`phase` / `log`), so a server forwards them by renaming it.
 */
export type EnvironmentEvent =
  | (Omit<PhaseTaskEvent, "type"> & { type: "phase" })
  | (Omit<LogTaskEvent, "type"> & { type: "log" });

/** What to prepare, and with what. */
export interface PrepareEnvironmentOptions {
  /** A git URL, or a local path to a git repository (bare or not). */
  repository: string;
  branch: string;
  /** Run with `bash -e` in the checkout; empty for none. */
  setupScript: string;
  /** Environment variables of the setup script (part of the cache key). */
  env: Record<string, string>;
  /** Also given to the setup script, masked in its log, and not part of the cache key. */
  secrets: Record<string, string>;
  /** The setup script is killed after this long. */
  setupTimeoutMs: number;
  /** Where mirrors and prepared trees live, e.g. `<dataDir>/env-cache`. */
  cacheDir: string;
  /** Runs the setup script (in a bwrap sandbox unless the provider is "none"). */
  provider: SandboxProvider;
  /** Whether the setup script may reach the network (default true: setup usually installs packages). */
  setupNetwork?: boolean;
  signal?: AbortSignal;
  onEvent?: (event: EnvironmentEvent) => void;
}

/** A prepared environment, ready to be copied into task workspaces. */
export interface PreparedEnvironment {
  /** The prepared tree (a git checkout); copy it, never work in it. */
  dir: string;
  /** The commit it is checked out at: the base of every task diff. */
  baseCommit: string;
  cacheKey: string;
  /** True when the tree was already prepared and the setup did not run. */
  cached: boolean;
}
