import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SandboxExecChunk, SandboxState } from "@kiln/protocol";
import { KilnError } from "@kiln/protocol";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createSandboxProvider } from "../sandbox-provider.ts";
import { collectExec } from "./collect-exec.ts";
import { createSandboxManager, type SandboxManager, type SandboxManagerOptions } from "./sandbox-manager.ts";
import type { TerminalSession } from "./terminal-session.ts";

const provider = createSandboxProvider("workspace-write");
const temps: string[] = [];
const managers: SandboxManager[] = [];

async function workspace(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "kiln-live-"));
  temps.push(dir);
  return dir;
}

function manager(options: Partial<SandboxManagerOptions> = {}): SandboxManager {
  const created = createSandboxManager({ provider, ...options });
  managers.push(created);
  return created;
}

async function openSandbox(options: Partial<SandboxManagerOptions> = {}) {
  const dir = await workspace();
  return {
    dir,
    sandbox: manager(options).open({ id: `sbx_${randomUUID()}`, workspace: dir, networkAccess: false }),
  };
}

async function chunksOf(iterable: AsyncIterable<SandboxExecChunk>): Promise<SandboxExecChunk[]> {
  const out: SandboxExecChunk[] = [];
  for await (const chunk of iterable) out.push(chunk);
  return out;
}

/** Resolves with the terminal output so far once it matches `pattern`. */
function waitForTerminal(terminal: TerminalSession, pattern: RegExp): Promise<string> {
  return new Promise((resolve) => {
    let output = "";
    const unsubscribe = terminal.onData((data) => {
      output += data;
      if (pattern.test(output)) {
        unsubscribe();
        resolve(output);
      }
    });
  });
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

afterEach(async () => {
  await Promise.all(managers.splice(0).map((created) => created.close()));
});

afterAll(async () => {
  await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe("exec in a live sandbox", () => {
  it("streams stdout and stderr as separate chunks and ends with the exit code", async () => {
    const { sandbox } = await openSandbox();
    const chunks = await chunksOf(sandbox.exec({ command: "echo out; sleep 0.1; echo err >&2; exit 3" }));
    const exit = chunks.at(-1);
    expect(chunks.slice(0, -1)).toEqual([
      { type: "stdout", data: "out\n" },
      { type: "stderr", data: "err\n" },
    ]);
    expect(exit).toEqual({
      type: "exit",
      exit_code: 3,
      signal: null,
      duration_ms: expect.any(Number),
      timed_out: false,
    });
  });

  it("runs an argv command without a shell, in a working directory relative to the workspace", async () => {
    const { dir, sandbox } = await openSandbox();
    await mkdir(join(dir, "sub"));
    const result = await collectExec(sandbox.exec({ command: ["pwd"], cwd: "sub", env: { KILN_X: "1" } }));
    expect(result).toEqual({
      exit_code: 0,
      stdout: `${dir}/sub\n`,
      stderr: "",
      duration_ms: expect.any(Number),
      signal: null,
      timed_out: false,
    });
  });

  it("kills a command that runs past its timeout and says it timed out", async () => {
    const { sandbox } = await openSandbox();
    const result = await collectExec(sandbox.exec({ command: "echo started; sleep 30", timeoutMs: 300 }));
    expect(result).toEqual({
      exit_code: null,
      stdout: "started\n",
      stderr: "",
      duration_ms: expect.any(Number),
      signal: "SIGKILL",
      timed_out: true,
    });
    expect(result.duration_ms).toBeLessThan(5000);
  });

  it("kills the command when the caller aborts", async () => {
    const { sandbox } = await openSandbox();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const result = await collectExec(sandbox.exec({ command: "sleep 30", signal: controller.signal }));
    expect(result).toMatchObject({ exit_code: null, signal: "SIGKILL", timed_out: false });
  });

  it("refuses a working directory outside the workspace, through .., an absolute path or a symlink", async () => {
    const { dir, sandbox } = await openSandbox();
    const outside = await workspace();
    await symlink(outside, join(dir, "elsewhere"));
    for (const cwd of ["..", "sub/../..", "/etc", outside, "elsewhere"]) {
      await expect(collectExec(sandbox.exec({ command: "pwd", cwd }))).rejects.toMatchObject({
        code: "path_escape",
      });
    }
  });

  it("keeps the tail of a long output and says how much was dropped", async () => {
    const { sandbox } = await openSandbox();
    const result = await collectExec(sandbox.exec({ command: "seq 1 200000; echo last" }), {
      maxChars: 1000,
    });
    const [notice, ...rest] = result.stdout.split("\n");
    expect(notice).toMatch(/^\[kiln: the first \d+ characters were dropped; 1000 kept\]$/);
    expect(rest.join("\n").length).toBe(1000);
    expect(result.stdout.endsWith("199999\n200000\nlast\n")).toBe(true);
  });
});

describe("a terminal in a live sandbox", () => {
  it("runs what is typed and shows its output", async () => {
    const { sandbox } = await openSandbox();
    const terminal = sandbox.terminal({ cols: 80, rows: 24 });
    terminal.write('echo h""i\r');
    // The echo of the typed line shows `h""i`; only the command's output is a bare `hi` line.
    await waitForTerminal(terminal, /[\r\n]hi\r\n/);
    terminal.close();
    expect(await terminal.exited).toEqual({ exitCode: null, signal: "SIGKILL" });
  });

  it("is killed when closed before its shell is up", async () => {
    const { sandbox } = await openSandbox();
    const terminal = sandbox.terminal({ cols: 80, rows: 24 });
    terminal.close();
    expect(await terminal.exited).toEqual({ exitCode: null, signal: "SIGKILL" });
  });

  it("says in its output why it could not start", async () => {
    const sandbox = manager().open({
      id: `sbx_${randomUUID()}`,
      workspace: "/nonexistent/kiln",
      networkAccess: false,
    });
    const terminal = sandbox.terminal({ cols: 80, rows: 24 });
    let output = "";
    terminal.onData((data) => {
      output += data;
    });
    await expect(terminal.started).rejects.toMatchObject({ code: "not_found" });
    expect(await terminal.exited).toEqual({ exitCode: null, signal: null });
    expect(output).toBe(
      "\r\n[kiln: the terminal could not start: The sandbox workspace /nonexistent/kiln does not exist.]\r\n",
    );
    expect(() => sandbox.terminal({ cols: 0, rows: 24 })).toThrow(/1–1000 columns/);
  });

  it("sees the workspace but no other workspace on the host", async () => {
    const { dir, sandbox } = await openSandbox();
    const other = await workspace();
    await writeFile(join(other, "secret.txt"), "nope");
    await writeFile(join(dir, "mine.txt"), "yes");
    const terminal = sandbox.terminal({ cols: 120, rows: 24 });
    terminal.write(`cat mine.txt; echo; cat ${other}/secret.txt; echo "done$((1+1))"\r`);
    const output = await waitForTerminal(terminal, /done2/);
    terminal.close();
    expect(output).toContain("yes");
    expect(output).toContain(`${other}/secret.txt: No such file or directory`);
    expect(output).not.toContain("nope");
  });

  it("resizes: the shell sees the new size", async () => {
    const { sandbox } = await openSandbox();
    const terminal = sandbox.terminal({ cols: 80, rows: 24 });
    terminal.resize(132, 40);
    terminal.write('echo "size: $(stty size)"\r');
    const output = await waitForTerminal(terminal, /size: \d+ \d+/);
    terminal.close();
    expect(output).toMatch(/size: 40 132/);
  });
});

describe("status and stop", () => {
  it("reports a stopped sandbox before its first command, then uptime, memory, processes and disk while it runs", async () => {
    let clock = 1_000_000;
    const { dir, sandbox } = await openSandbox({ now: () => clock });
    await writeFile(join(dir, "data.bin"), Buffer.alloc(100_000, 1));
    expect(await sandbox.status()).toEqual({
      state: "stopped",
      uptime_s: 0,
      cpu_percent: 0,
      memory_bytes: 0,
      disk_bytes: expect.any(Number),
      processes: 0,
      limits: { enforcedBy: "none" },
    });

    const sleeping = collectExec(sandbox.exec({ command: "sleep 30" }));
    await until(async () => (await sandbox.status()).processes > 0);
    clock += 5000;
    const status = await sandbox.status();
    expect(status).toMatchObject({ state: "running", uptime_s: 5, limits: { enforcedBy: "none" } });
    expect(status.memory_bytes).toBeGreaterThan(0);
    expect(status.disk_bytes).toBeGreaterThanOrEqual(100_000);
    expect(status.cpu_percent).toBeGreaterThanOrEqual(0);

    await sandbox.stop();
    expect(await sleeping).toMatchObject({ exit_code: null, signal: "SIGKILL" });
    expect(await sandbox.status()).toMatchObject({
      state: "stopped",
      uptime_s: 0,
      processes: 0,
      memory_bytes: 0,
    });
  });

  it("measures the CPU a busy command uses, and none for a sleeping one", async () => {
    const { sandbox } = await openSandbox();
    const sleeping = collectExec(sandbox.exec({ command: "sleep 30" }));
    await until(async () => (await sandbox.status()).processes > 0);
    const idle = await sandbox.status();
    const busy = collectExec(sandbox.exec({ command: "while :; do :; done" }));
    await until(async () => (await sandbox.status()).cpu_percent > 5);
    await sandbox.stop();
    await Promise.all([sleeping, busy]);
    // Not near 100: CI machines (this one included) often get only part of a core.
    expect(idle.cpu_percent).toBeLessThan(5);
  });

  it("stop kills terminals too, and the next exec starts the sandbox again", async () => {
    const states: [string, SandboxState][] = [];
    const { sandbox } = await openSandbox({ onStateChange: (id, state) => states.push([id, state]) });
    const terminal = sandbox.terminal({ cols: 80, rows: 24 });
    await terminal.started;
    expect(sandbox.state).toBe("running");
    await sandbox.stop();
    expect(await terminal.exited).toEqual({ exitCode: null, signal: "SIGKILL" });
    expect(sandbox.state).toBe("stopped");
    expect(await collectExec(sandbox.exec({ command: "echo again" }))).toMatchObject({ stdout: "again\n" });
    expect(sandbox.state).toBe("running");
    expect(states).toEqual([
      [sandbox.id, "running"],
      [sandbox.id, "stopped"],
      [sandbox.id, "running"],
    ]);
  });
});

describe("idle sandboxes", () => {
  it("stop after the idle timeout and come back on demand with their files", async () => {
    let clock = 1_000_000;
    const { dir, sandbox } = await openSandbox({ now: () => clock, idleTimeoutMs: 200 });
    await collectExec(sandbox.exec({ command: "echo kept > note.txt" }));
    const terminal = sandbox.terminal({ cols: 80, rows: 24 });
    await terminal.started;
    clock += 100;
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(sandbox.state).toBe("running");

    // An open terminal without I/O does not keep the sandbox alive.
    clock += 200;
    await until(() => sandbox.state === "stopped");
    expect(await terminal.exited).toEqual({ exitCode: null, signal: "SIGKILL" });
    expect(await readFile(join(dir, "note.txt"), "utf8")).toBe("kept\n");

    expect(await collectExec(sandbox.exec({ command: "cat note.txt" }))).toMatchObject({ stdout: "kept\n" });
    expect(sandbox.state).toBe("running");
  });

  it("never stop while an exec is running", async () => {
    let clock = 1_000_000;
    const { sandbox } = await openSandbox({ now: () => clock, idleTimeoutMs: 100 });
    const running = collectExec(sandbox.exec({ command: "sleep 0.6; echo finished" }));
    await until(() => sandbox.state === "running");
    clock += 10_000;
    expect(await running).toMatchObject({ exit_code: 0, stdout: "finished\n" });
    // The exec's end is activity: the sandbox idles from there.
    expect(sandbox.state).toBe("running");
    clock += 200;
    await until(() => sandbox.state === "stopped");
  });
});

describe("the manager", () => {
  it("returns the same sandbox for the same id and refuses to reopen it with another workspace", async () => {
    const created = manager();
    const dir = await workspace();
    const spec = { id: "sbx_same", workspace: dir, networkAccess: false };
    expect(created.open(spec)).toBe(created.open({ ...spec }));
    expect(created.get("sbx_same")).toBe(created.open(spec));
    expect(() => created.open({ ...spec, workspace: `${dir}-other` })).toThrow(KilnError);
    expect(() => created.open({ ...spec, networkAccess: true })).toThrow(/already open/);
  });

  it("stops every sandbox on close", async () => {
    const created = manager();
    const sandbox = created.open({
      id: `sbx_${randomUUID()}`,
      workspace: await workspace(),
      networkAccess: false,
    });
    const sleeping = collectExec(sandbox.exec({ command: "sleep 30" }));
    await until(() => sandbox.state === "running");
    await created.close();
    expect(await sleeping).toMatchObject({ signal: "SIGKILL" });
    expect(sandbox.state).toBe("stopped");
    expect(() => created.open({ id: "sbx_late", workspace: "/tmp", networkAccess: false })).toThrow(/closed/);
  });
});
