import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createSandboxProvider } from "../sandbox-provider.ts";
import { findSystemTool } from "../system-tools.ts";
import { collectExec } from "./collect-exec.ts";
import { createLimitEnforcer } from "./resource-limits.ts";
import { createSandboxManager, type SandboxManager, type SandboxManagerOptions } from "./sandbox-manager.ts";

const provider = createSandboxProvider("workspace-write");
const temps: string[] = [];
const managers: SandboxManager[] = [];
const mib = 1024 * 1024;

// Whether this host lets Kiln create cgroups (root, and a cgroupfs with the memory and pids
// controllers), and whether prlimit is there for the rlimit fallback.
const cgroupsUsable =
  (await createLimitEnforcer({ memoryBytes: 64 * mib, pids: 32 })).enforcedBy === "cgroup";
const prlimitUsable = findSystemTool("prlimit") !== undefined;

async function openSandbox(options: Partial<SandboxManagerOptions>) {
  const dir = await mkdtemp(join(tmpdir(), "kiln-limits-"));
  temps.push(dir);
  const manager = createSandboxManager({ provider, ...options });
  managers.push(manager);
  return manager.open({ id: `sbx_${randomUUID()}`, workspace: dir, networkAccess: false });
}

/** Builds a string by doubling it until it is over 100 MB (about 200 MB at the peak). */
const memoryHog = 'awk \'BEGIN { s = "x"; while (length(s) < 100000000) s = s s; print "survived" }\'';
/** Starts 40 background processes; dash reports a failed fork at once instead of retrying. */
const forkBomb = "sh -c 'i=0; while [ $i -lt 40 ]; do sleep 5 & i=$((i+1)); done; echo all started'";

async function until(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A sandbox's cgroup: one per sandbox on v2, one per controller on v1 (the pids one here). */
function cgroupDir(id: string): string {
  return existsSync("/sys/fs/cgroup/cgroup.controllers")
    ? `/sys/fs/cgroup/kiln/${id}`
    : `/sys/fs/cgroup/pids/kiln/${id}`;
}

async function closeAll(): Promise<void> {
  await Promise.all(managers.splice(0).map((manager) => manager.close()));
}

afterEach(closeAll);

afterAll(async () => {
  await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe("a sandbox without limits", () => {
  it("lets the memory hog and the fork loop finish (the control for the tests below)", async () => {
    const sandbox = await openSandbox({});
    expect(await collectExec(sandbox.exec({ command: memoryHog }))).toMatchObject({
      exit_code: 0,
      stdout: "survived\n",
    });
    expect(await collectExec(sandbox.exec({ command: forkBomb }))).toMatchObject({
      exit_code: 0,
      stdout: "all started\n",
    });
    expect((await sandbox.status()).limits).toEqual({ enforcedBy: "none" });
  });
});

describe.skipIf(!cgroupsUsable)(
  "cgroup limits (needs root and a writable cgroupfs with memory and pids)",
  () => {
    const limits = { memoryBytes: 48 * mib, pids: 24, cpuPercent: 50 };

    it("report what they enforce", async () => {
      const sandbox = await openSandbox({ limits });
      expect((await sandbox.status()).limits).toEqual({ ...limits, enforcedBy: "cgroup" });
    });

    it("kill a command that uses more memory than the sandbox may", async () => {
      const sandbox = await openSandbox({ limits });
      const result = await collectExec(sandbox.exec({ command: memoryHog }));
      expect(result.stdout).toBe("");
      expect(result.exit_code).not.toBe(0);
      await closeAll();
      expect(existsSync(cgroupDir(sandbox.id))).toBe(false);
    });

    it("stop a fork loop at the process limit", async () => {
      const sandbox = await openSandbox({ limits });
      const result = await collectExec(sandbox.exec({ command: forkBomb }));
      expect(result).toMatchObject({ exit_code: 2, stdout: "" });
      expect(result.stderr).toMatch(/fork/i);
      await closeAll();
      expect(existsSync(cgroupDir(sandbox.id))).toBe(false);
    });

    it("put every process of the sandbox in its cgroup, from the first one on", async () => {
      const id = `sbx_${randomUUID()}`;
      const dir = await mkdtemp(join(tmpdir(), "kiln-limits-"));
      temps.push(dir);
      const manager = createSandboxManager({ provider, limits });
      managers.push(manager);
      const sandbox = manager.open({ id, workspace: dir, networkAccess: false });
      const sleeping = collectExec(sandbox.exec({ command: "sleep 5" }));
      await until(async () => (await sandbox.status()).processes >= 3);
      const procsFile = `${cgroupDir(id)}/cgroup.procs`;
      const inCgroup = (await readFile(procsFile, "utf8")).trim().split("\n");
      const status = await sandbox.status();
      await sandbox.stop();
      expect(await sleeping).toMatchObject({ signal: "SIGKILL" });
      // bwrap outside, bwrap as the sandbox's init, and sleep.
      expect(inCgroup).toHaveLength(status.processes);
      await manager.close();
      expect(existsSync(procsFile)).toBe(false);
    });
  },
);

describe("the cgroup v2 layout", () => {
  // This host may only have v1 hierarchies: a directory stands in for a v2 cgroupfs here, to check
  // which files get which values (the kernel's side is covered by the tests above where v2 is mounted).
  it("enables the controllers down to kiln/ and writes memory.max, memory.swap.max, pids.max and cpu.max", async () => {
    const root = await mkdtemp(join(tmpdir(), "kiln-cgroupfs-"));
    temps.push(root);
    await writeFile(join(root, "cgroup.controllers"), "cpuset cpu io memory hugetlb pids rdma misc\n");
    await writeFile(join(root, "cgroup.subtree_control"), "memory\n");
    await mkdir(join(root, "kiln"));
    await writeFile(join(root, "kiln/cgroup.subtree_control"), "");
    const enforcer = await createLimitEnforcer(
      { memoryBytes: 48 * mib, pids: 24, cpuPercent: 150 },
      { prefer: "cgroup", cgroupRoot: root },
    );
    await mkdir(join(root, "kiln/sbx_a"));
    await writeFile(join(root, "kiln/sbx_a/memory.swap.max"), "max\n");
    const prefix = await enforcer.prefixFor("sbx_a");
    const read = (path: string) => readFile(join(root, path), "utf8");
    expect({
      enforcedBy: enforcer.enforcedBy,
      enforced: enforcer.enforced,
      rootSubtree: await read("cgroup.subtree_control"),
      kilnSubtree: await read("kiln/cgroup.subtree_control"),
      memory: await read("kiln/sbx_a/memory.max"),
      swap: await read("kiln/sbx_a/memory.swap.max"),
      pids: await read("kiln/sbx_a/pids.max"),
      cpu: await read("kiln/sbx_a/cpu.max"),
      joins: prefix.slice(3),
    }).toEqual({
      enforcedBy: "cgroup",
      enforced: { memoryBytes: 48 * mib, pids: 24, cpuPercent: 150 },
      rootSubtree: "+pids +cpu",
      kilnSubtree: "+memory +pids +cpu",
      memory: String(48 * mib),
      swap: "0",
      pids: "24",
      cpu: "150000 100000",
      joins: ["kiln-cgroup", join(root, "kiln/sbx_a/cgroup.procs"), "--"],
    });
  });

  it("falls back when the controllers are missing, and says so when cgroups were required", async () => {
    const root = await mkdtemp(join(tmpdir(), "kiln-cgroupfs-"));
    temps.push(root);
    await writeFile(join(root, "cgroup.controllers"), "cpuset io\n");
    await expect(
      createLimitEnforcer({ pids: 24 }, { prefer: "cgroup", cgroupRoot: root }),
    ).rejects.toMatchObject({
      code: "sandbox_unavailable",
    });
    expect((await createLimitEnforcer({ pids: 24 }, { cgroupRoot: root })).enforcedBy).toBe("none");
  });
});

describe.skipIf(!prlimitUsable)("rlimit limits (the fallback, with prlimit)", () => {
  it("cap the memory of each process, and say that only memory is enforced", async () => {
    const sandbox = await openSandbox({
      limits: { memoryBytes: 64 * mib, pids: 24 },
      enforceLimitsWith: "rlimit",
    });
    expect((await sandbox.status()).limits).toEqual({ memoryBytes: 64 * mib, enforcedBy: "rlimit" });
    const result = await collectExec(sandbox.exec({ command: memoryHog }));
    expect(result.stdout).toBe("");
    expect(result.exit_code).not.toBe(0);
    expect(await collectExec(sandbox.exec({ command: "echo small" }))).toMatchObject({
      exit_code: 0,
      stdout: "small\n",
    });
  });
});
