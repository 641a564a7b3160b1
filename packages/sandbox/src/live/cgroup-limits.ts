// Per-sandbox cgroups under `<cgroup root>/kiln/<name>`, on a pure cgroup v2 hierarchy or on the v1
// per-controller hierarchies that hybrid hosts still mount. Sequence:
//   1. detect (once per manager): the controllers the limits need must exist, and Kiln (as root) must
//      be able to create `kiln/` and, on v2, enable the controllers for it (a container whose
//      /sys/fs/cgroup already holds processes cannot: then the caller falls back to rlimits);
//   2. per sandbox start: create the sandbox's cgroup(s) and write the limits;
//   3. the command joins them through a host-side `sh` that writes its own pid into `cgroup.procs` and
//      then execs the sandbox launcher, so every sandboxed process starts inside (no race with forks);
//   4. stop: kill what is left in the cgroup; close: remove the (empty) cgroups.
import { access, mkdir, readFile, rmdir, writeFile } from "node:fs/promises";
import { KilnError } from "@kiln/protocol";
import type { SandboxLimits } from "./resource-limits.ts";

/** Sandbox cgroups of one manager. */
export interface CgroupLimits {
  /** The limits these cgroups enforce (a subset of those asked for). */
  readonly enforced: SandboxLimits;
  /** Creates the cgroup(s) of sandbox `name`, writes the limits, and returns their `cgroup.procs` files. */
  prepare(name: string): Promise<string[]>;
  /** SIGKILLs every process still in sandbox `name`'s cgroup(s). */
  killRemaining(name: string): Promise<void>;
  /** Removes sandbox `name`'s cgroup(s); one that still has processes is left alone. */
  release(name: string): Promise<void>;
}

/** One cgroup directory (per controller on v1) and the limit files it gets. */
interface ControllerPlan {
  /** `<root>/kiln` (v2) or `<root>/<controller>/kiln` (v1). */
  parent: string;
  /** [file, value] pairs, written in order; a file missing on this kernel is skipped when `optional`. */
  writes: { file: string; value: string; optional?: boolean }[];
}

const cpuPeriodUs = 100_000;

/** Sets up cgroup limits under `root`, or returns undefined when this host cannot enforce them that way. */
export async function detectCgroupLimits(
  limits: SandboxLimits,
  root = "/sys/fs/cgroup",
): Promise<CgroupLimits | undefined> {
  const plans = (await exists(`${root}/cgroup.controllers`))
    ? await planV2(limits, root)
    : await planV1(limits, root);
  if (plans === undefined || plans.length === 0) return undefined;

  const dirs = (name: string) => plans.map((plan) => `${plan.parent}/${name}`);
  const enforced: SandboxLimits = {
    ...(limits.memoryBytes === undefined ? {} : { memoryBytes: limits.memoryBytes }),
    ...(limits.pids === undefined ? {} : { pids: limits.pids }),
    ...(limits.cpuPercent === undefined ? {} : { cpuPercent: limits.cpuPercent }),
  };
  return {
    enforced,
    async prepare(name) {
      for (const plan of plans) {
        const dir = `${plan.parent}/${name}`;
        await mkdir(dir, { recursive: true });
        for (const { file, value, optional } of plan.writes) {
          if (optional === true && !(await exists(`${dir}/${file}`))) continue;
          await writeFile(`${dir}/${file}`, value).catch((error: unknown) => {
            throw new KilnError(
              "sandbox_unavailable",
              `Could not set ${file}=${value} in ${dir}: ${error instanceof Error ? error.message : String(error)}.`,
              { cause: error },
            );
          });
        }
      }
      return dirs(name).map((dir) => `${dir}/cgroup.procs`);
    },
    async killRemaining(name) {
      for (const dir of dirs(name)) {
        // cgroup.kill (v2, Linux 5.14+) also catches processes forked while we read the list.
        if (
          await writeFile(`${dir}/cgroup.kill`, "1").then(
            () => true,
            () => false,
          )
        )
          continue;
        const procs = await readFile(`${dir}/cgroup.procs`, "utf8").catch(() => "");
        for (const pid of procs.split("\n").filter(Boolean)) {
          try {
            process.kill(Number(pid), "SIGKILL");
          } catch {
            // ESRCH: it died on its own meanwhile.
          }
        }
      }
    },
    async release(name) {
      await Promise.all(dirs(name).map(removeWhenEmpty));
    },
  };
}

/** Pure v2: one cgroup per sandbox, the controllers enabled down from the root. */
async function planV2(limits: SandboxLimits, root: string): Promise<ControllerPlan[] | undefined> {
  const needed = [
    ...(limits.memoryBytes === undefined ? [] : ["memory"]),
    ...(limits.pids === undefined ? [] : ["pids"]),
    ...(limits.cpuPercent === undefined ? [] : ["cpu"]),
  ];
  const available = (await readFile(`${root}/cgroup.controllers`, "utf8").catch(() => "")).split(/\s+/);
  if (!needed.every((name) => available.includes(name))) return undefined;
  const parent = `${root}/kiln`;
  try {
    await enableControllers(`${root}/cgroup.subtree_control`, needed);
    await mkdir(parent, { recursive: true });
    await enableControllers(`${parent}/cgroup.subtree_control`, needed);
  } catch {
    // Not root, or the root cgroup holds processes (a container): no cgroup limits here.
    return undefined;
  }
  const writes: ControllerPlan["writes"] = [];
  if (limits.memoryBytes !== undefined) {
    writes.push({ file: "memory.max", value: String(limits.memoryBytes) });
    // Without this the limit only pushes the sandbox into swap.
    writes.push({ file: "memory.swap.max", value: "0", optional: true });
  }
  if (limits.pids !== undefined) writes.push({ file: "pids.max", value: String(limits.pids) });
  if (limits.cpuPercent !== undefined) {
    writes.push({ file: "cpu.max", value: `${cpuQuotaUs(limits.cpuPercent)} ${cpuPeriodUs}` });
  }
  return [{ parent, writes }];
}

async function enableControllers(subtreeControl: string, names: string[]): Promise<void> {
  const enabled = (await readFile(subtreeControl, "utf8")).split(/\s+/);
  const missing = names.filter((name) => !enabled.includes(name));
  if (missing.length > 0) await writeFile(subtreeControl, missing.map((name) => `+${name}`).join(" "));
}

/** v1 (hybrid hosts): one cgroup per sandbox in each controller's own hierarchy. */
async function planV1(limits: SandboxLimits, root: string): Promise<ControllerPlan[] | undefined> {
  const plans: ControllerPlan[] = [];
  if (limits.memoryBytes !== undefined) {
    const value = String(limits.memoryBytes);
    // memsw (memory + swap) must never be below the memory limit: lift it, set memory, then lower it.
    plans.push({
      parent: `${root}/memory/kiln`,
      writes: [
        { file: "memory.memsw.limit_in_bytes", value: "-1", optional: true },
        { file: "memory.limit_in_bytes", value },
        { file: "memory.memsw.limit_in_bytes", value, optional: true },
      ],
    });
  }
  if (limits.pids !== undefined) {
    plans.push({ parent: `${root}/pids/kiln`, writes: [{ file: "pids.max", value: String(limits.pids) }] });
  }
  if (limits.cpuPercent !== undefined) {
    plans.push({
      parent: `${root}/cpu/kiln`,
      writes: [
        { file: "cpu.cfs_period_us", value: String(cpuPeriodUs) },
        { file: "cpu.cfs_quota_us", value: String(cpuQuotaUs(limits.cpuPercent)) },
      ],
    });
  }
  for (const plan of plans) {
    const probe = plan.writes.find((write) => write.optional !== true)?.file ?? "cgroup.procs";
    const usable = await mkdir(plan.parent, { recursive: true }).then(
      () => exists(`${plan.parent}/${probe}`),
      () => false,
    );
    if (!usable) return undefined;
  }
  return plans;
}

/** `cpuPercent` of one CPU (100 = a whole core) as a CFS quota per period. */
function cpuQuotaUs(cpuPercent: number): number {
  return Math.max(1000, Math.round((cpuPercent / 100) * cpuPeriodUs));
}

/**
 * Removes a cgroup, waiting a little while it is still busy: killed processes leave it only once the
 * kernel has torn them down, which can be after their parent saw them exit. One that stays busy (or
 * was never created) is left alone.
 */
async function removeWhenEmpty(dir: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const error = await rmdir(dir).then(
      () => undefined,
      (failure: NodeJS.ErrnoException) => failure,
    );
    if (error?.code !== "EBUSY") return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
