// Resource limits of live sandboxes, "where the kernel allows": per-sandbox cgroups when Kiln can create
// them (cgroup-limits.ts), otherwise an address-space rlimit set by `prlimit` on the host before the
// sandbox starts, otherwise nothing. rlimits are per process and per uid, so only the memory limit
// maps onto one honestly (RLIMIT_NPROC would count every sandbox of the shared sandbox uid, RLIMIT_CPU
// is CPU seconds rather than a share); what is enforced is reported as such.
import { KilnError } from "@kiln/protocol";
import { findSystemTool } from "../system-tools.ts";
import { detectCgroupLimits } from "./cgroup-limits.ts";

/** Resource limits of each sandbox. */
export interface SandboxLimits {
  /** Memory of all its processes together (cgroup), or address space per process (rlimit). */
  memoryBytes?: number;
  /** Processes and threads at once, including the sandbox's own bwrap supervisors (cgroup only). */
  pids?: number;
  /** CPU time as a share of one core: 100 = one full core, 50 = half of one (cgroup only). */
  cpuPercent?: number;
}

/** How limits are enforced: per-sandbox cgroups, per-process rlimits, or not at all. */
export type LimitMechanism = "cgroup" | "rlimit" | "none";

/** Which mechanism to use: the best this host offers, or one in particular (an error if unavailable). */
export type LimitPreference = "auto" | LimitMechanism;

/** The limits of one sandbox manager, applied to each sandbox. */
export interface LimitEnforcer {
  /** The mechanism in use. */
  readonly enforcedBy: LimitMechanism;
  /** The limits actually enforced (those this mechanism cannot enforce are left out). */
  readonly enforced: SandboxLimits;
  /** A host command prefix (SpawnOptions.hostPrefix) that puts a new command under sandbox `name`'s limits. */
  prefixFor(name: string): Promise<string[]>;
  /** Kills processes left in sandbox `name`'s cgroup after its process groups were killed. */
  killRemaining(name: string): Promise<void>;
  /** Frees what sandbox `name` held (its cgroups). */
  release(name: string): Promise<void>;
}

/** Knobs for detection. */
export interface LimitEnforcerOptions {
  prefer?: LimitPreference;
  /** Where cgroupfs is mounted (default /sys/fs/cgroup). */
  cgroupRoot?: string;
}

const none: LimitEnforcer = {
  enforcedBy: "none",
  enforced: {},
  prefixFor: async () => [],
  killRemaining: async () => {},
  release: async () => {},
};

/** Picks and prepares the mechanism for `limits`. */
export async function createLimitEnforcer(
  limits: SandboxLimits,
  options: LimitEnforcerOptions = {},
): Promise<LimitEnforcer> {
  validateLimits(limits);
  const prefer = options.prefer ?? "auto";
  const wanted = Object.values(limits).some((value) => value !== undefined);
  if (!wanted || prefer === "none") return none;

  if (prefer === "auto" || prefer === "cgroup") {
    const cgroups = await detectCgroupLimits(limits, options.cgroupRoot);
    const sh = findSystemTool("sh");
    if (cgroups !== undefined && sh !== undefined) {
      return {
        enforcedBy: "cgroup",
        enforced: cgroups.enforced,
        async prefixFor(name) {
          const procs = await cgroups.prepare(name);
          // Runs as Kiln (root) on the host, so the sandbox never sees /sys/fs/cgroup; `$$` is the pid
          // that then execs the launcher, so bwrap and everything under it start inside the cgroup.
          return [sh, "-c", joinScript, "kiln-cgroup", ...procs, "--"];
        },
        killRemaining: (name) => cgroups.killRemaining(name),
        release: (name) => cgroups.release(name),
      };
    }
    if (prefer === "cgroup") {
      throw new KilnError(
        "sandbox_unavailable",
        "cgroup limits are unavailable: Kiln must run as root on a host whose /sys/fs/cgroup lets it create cgroups with the memory, pids and cpu controllers.",
      );
    }
  }

  const prlimit = findSystemTool("prlimit");
  if (prlimit !== undefined && limits.memoryBytes !== undefined) {
    const prefix = [prlimit, `--as=${limits.memoryBytes}`, "--"];
    return {
      ...none,
      enforcedBy: "rlimit",
      enforced: { memoryBytes: limits.memoryBytes },
      prefixFor: async () => prefix,
    };
  }
  if (prefer === "rlimit") {
    throw new KilnError(
      "sandbox_unavailable",
      limits.memoryBytes === undefined
        ? "rlimits can enforce only a memory limit: set limits.memoryBytes, or use cgroups."
        : "prlimit is not installed: `apt-get install util-linux`.",
    );
  }
  return none;
}

/** Writes `$$` into every `cgroup.procs` named before `--`, then execs what follows. */
const joinScript = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"';

/** Throws `config_invalid` for a limit that is not a sensible positive number. */
export function validateLimits(limits: SandboxLimits): void {
  const checks: [string, number | undefined, number][] = [
    ["memoryBytes", limits.memoryBytes, 1024 * 1024],
    ["pids", limits.pids, 4],
    ["cpuPercent", limits.cpuPercent, 1],
  ];
  for (const [name, value, min] of checks) {
    if (value === undefined) continue;
    if (!Number.isFinite(value) || value < min || (name !== "cpuPercent" && !Number.isInteger(value))) {
      throw new KilnError(
        "config_invalid",
        `Sandbox limit ${name} must be a number of at least ${min}, got ${value}.`,
      );
    }
  }
}
