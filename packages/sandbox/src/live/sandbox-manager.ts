// The sandbox service as a library: the server opens a live sandbox per sandbox id on first use (so one
// whose processes were stopped, or that lived in a Kiln process that restarted, comes back on demand
// with its workspace intact), and the manager stops idle ones and enforces resource limits.
import { createHash } from "node:crypto";
import type { SandboxState } from "@kiln/protocol";
import { KilnError } from "@kiln/protocol";
import type { SandboxProvider } from "../types.ts";
import {
  createLiveSandbox,
  type LiveSandbox,
  type LiveSandboxSpec,
  type ManagedSandbox,
} from "./live-sandbox.ts";
import {
  createLimitEnforcer,
  type LimitEnforcer,
  type LimitPreference,
  type SandboxLimits,
  validateLimits,
} from "./resource-limits.ts";

/** How the manager runs sandboxes. */
export interface SandboxManagerOptions {
  /** Runs the commands; `createSandboxProvider("workspace-write")`. Every command runs under `workspace-write`. */
  provider: SandboxProvider;
  /** A running sandbox with no exec running and no activity for this long is stopped (default 15 min). */
  idleTimeoutMs?: number;
  /** Per-sandbox resource limits, enforced where the kernel allows (see `SandboxStatus.limits.enforcedBy`). */
  limits?: SandboxLimits;
  /** Which mechanism enforces the limits (default "auto": cgroups, else rlimits, else none). */
  enforceLimitsWith?: LimitPreference;
  /** The clock, ms since the epoch (tests inject one). */
  now?: () => number;
  /** Called when a sandbox starts or stops (to record its state). */
  onStateChange?: (id: string, state: SandboxState) => void;
}

/** Live sandboxes by id. */
export interface SandboxManager {
  /**
   * The live sandbox `spec.id`, created (stopped) on the first call; later calls return the same one.
   * Throws `conflict` when the id is already open with another workspace or network policy.
   */
  open(spec: LiveSandboxSpec): LiveSandbox;
  /** The live sandbox `id` if it has been opened. */
  get(id: string): LiveSandbox | undefined;
  /** Stops sandbox `id` and forgets it (its workspace is untouched). */
  remove(id: string): Promise<void>;
  /** Stops every sandbox and the idle timer. */
  close(): Promise<void>;
}

/** Default idle timeout: 15 minutes. */
export const defaultIdleTimeoutMs = 15 * 60_000;

/** Creates a manager; its idle timer does not keep the process alive. */
export function createSandboxManager(options: SandboxManagerOptions): SandboxManager {
  const idleTimeoutMs = options.idleTimeoutMs ?? defaultIdleTimeoutMs;
  if (!Number.isFinite(idleTimeoutMs) || idleTimeoutMs <= 0) {
    throw new KilnError(
      "config_invalid",
      `The sandbox idle timeout must be a positive number of ms, got ${idleTimeoutMs}.`,
    );
  }
  const limits = options.limits ?? {};
  validateLimits(limits);
  const now = options.now ?? Date.now;
  const sandboxes = new Map<string, ManagedSandbox>();
  let closed = false;

  let enforcer: Promise<LimitEnforcer> | undefined;
  const limitEnforcer = () => {
    enforcer ??= createLimitEnforcer(limits, { prefer: options.enforceLimitsWith ?? "auto" });
    return enforcer;
  };

  // Checked a few times per timeout, so a sandbox stops at most a quarter-timeout late.
  const sweepMs = Math.min(Math.max(idleTimeoutMs / 4, 20), 30_000);
  const timer = setInterval(() => {
    for (const sandbox of sandboxes.values()) {
      // A failed stop is retried on the next sweep; there is no caller to report it to.
      sandbox.stopIfIdle(idleTimeoutMs).catch(() => {});
    }
  }, sweepMs);
  timer.unref();

  return {
    open(spec) {
      if (closed) throw new KilnError("sandbox_unavailable", "The sandbox manager has been closed.");
      const existing = sandboxes.get(spec.id);
      if (existing !== undefined) {
        if (existing.workspace !== spec.workspace || existing.networkAccess !== spec.networkAccess) {
          throw new KilnError(
            "conflict",
            `Sandbox ${spec.id} is already open with workspace ${existing.workspace} and network ${existing.networkAccess ? "on" : "off"}; remove it first to change them.`,
          );
        }
        return existing;
      }
      const sandbox = createLiveSandbox(spec, {
        provider: options.provider,
        limits: limitEnforcer,
        limitName: cgroupName(spec.id),
        now,
        onStateChange: (state) => options.onStateChange?.(spec.id, state),
      });
      sandboxes.set(spec.id, sandbox);
      return sandbox;
    },

    get: (id) => sandboxes.get(id),

    async remove(id) {
      const sandbox = sandboxes.get(id);
      if (sandbox === undefined) return;
      sandboxes.delete(id);
      await sandbox.dispose();
    },

    async close() {
      closed = true;
      clearInterval(timer);
      const all = [...sandboxes.values()];
      sandboxes.clear();
      await Promise.all(all.map((sandbox) => sandbox.dispose()));
    },
  };
}

/** A cgroup directory name for a sandbox id: the id itself when it is plain, a hash otherwise. */
function cgroupName(id: string): string {
  if (/^[A-Za-z0-9_-]{1,100}$/.test(id)) return id;
  return `h-${createHash("sha256").update(id).digest("hex").slice(0, 32)}`;
}
