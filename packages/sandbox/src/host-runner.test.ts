import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SandboxPolicy } from "@kiln/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collectOutput } from "./collect-output.ts";
import { createSandboxProvider } from "./sandbox-provider.ts";
import type { SandboxProcess } from "./types.ts";

const provider = createSandboxProvider("danger-full-access");
const policy: SandboxPolicy = { mode: "danger-full-access", writableRoots: [], networkAccess: true };
let cwd: string;

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), "kiln-host-"));
  process.env.KILN_HOST_TEST_SECRET = "hunter2";
});

afterAll(async () => {
  delete process.env.KILN_HOST_TEST_SECRET;
  await rm(cwd, { recursive: true, force: true });
});

function waitForOutput(child: SandboxProcess, text: string): Promise<void> {
  return new Promise((resolve) => {
    let output = "";
    const unsubscribe = child.onData((chunk) => {
      output += chunk;
      if (output.includes(text)) {
        unsubscribe();
        resolve();
      }
    });
  });
}

async function processesWith(marker: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    if (cmdline.includes(marker)) found.push(pid);
  }
  return found;
}

describe("the host provider (danger-full-access)", () => {
  it("is of kind none", () => {
    expect(provider.kind).toBe("none");
  });

  it("runs on the host in the working directory, with stdout and stderr merged", async () => {
    const child = await provider.spawn({
      argv: ["bash", "-c", "pwd; echo err >&2; id -u; exit 4"],
      cwd,
      policy,
    });
    expect(await collectOutput(child)).toEqual({
      output: `${cwd}\nerr\n${process.getuid?.()}\n`,
      status: { exitCode: 4, signal: null },
    });
  });

  it("passes a filtered environment: identity and locale, not Kiln's secrets", async () => {
    const child = await provider.spawn({
      argv: ["bash", "-c", 'echo "home=$HOME secret=$KILN_HOST_TEST_SECRET task=$KILN_TASK"'],
      cwd,
      policy,
      env: { KILN_TASK: "7" },
    });
    expect((await collectOutput(child)).output).toBe(`home=${process.env.HOME} secret= task=7\n`);
  });

  it("does not leak Kiln's inherited file descriptors into the command", async () => {
    const child = await provider.spawn({ argv: ["ls", "/proc/self/fd"], cwd, policy });
    // ls itself opens fd 3 to read the directory.
    expect((await collectOutput(child)).output).toBe("0\n1\n2\n3\n");
  });

  it("runs in a PTY when asked", async () => {
    const child = await provider.spawn({ argv: ["bash", "-c", "test -t 0 && tty"], cwd, policy, tty: true });
    const { output, status } = await collectOutput(child);
    expect({ output: output.replace(/\r/g, ""), status }).toEqual({
      output: expect.stringMatching(/^\/dev\/pts\/\d+\n$/),
      status: { exitCode: 0, signal: null },
    });
  });

  it("kill() ends the whole process group", async () => {
    const marker = `20${process.pid}.5`;
    const child = await provider.spawn({
      argv: ["bash", "-c", `sleep ${marker} & sleep ${marker} & echo started; wait`],
      cwd,
      policy,
    });
    await waitForOutput(child, "started");
    child.kill();
    expect(await child.exited).toEqual({ exitCode: null, signal: "SIGKILL" });
    expect(await processesWith(`sleep\0${marker}`)).toEqual([]);
  });

  it("does not wait forever for a background process that keeps the output open", async () => {
    const marker = `30${process.pid}.5`;
    const child = await provider.spawn({ argv: ["bash", "-c", `sleep ${marker} & echo done`], cwd, policy });
    const started = Date.now();
    expect(await collectOutput(child)).toEqual({ output: "done\n", status: { exitCode: 0, signal: null } });
    expect(Date.now() - started).toBeLessThan(5_000);
    for (const pid of await processesWith(`sleep\0${marker}`)) process.kill(Number(pid), "SIGKILL");
  });
});
