import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SandboxMode, SandboxPolicy } from "@kiln/protocol";
import { KilnError } from "@kiln/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CommandResult, collectOutput } from "./collect-output.ts";
import { createSandboxProvider } from "./sandbox-provider.ts";
import type { SandboxProcess, SpawnOptions } from "./types.ts";

const asRoot = process.getuid?.() === 0;
const provider = createSandboxProvider("workspace-write");
const temps: string[] = [];

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

function policy(mode: SandboxMode, writableRoots: string[], networkAccess = false): SandboxPolicy {
  return { mode, writableRoots, networkAccess };
}

async function run(
  options: Partial<SpawnOptions> & Pick<SpawnOptions, "argv" | "cwd">,
): Promise<CommandResult> {
  const child = await provider.spawn({ policy: policy("workspace-write", [options.cwd]), ...options });
  return collectOutput(child);
}

/** Resolves with the output so far once it contains `text`. */
function waitForOutput(child: SandboxProcess, text: string): Promise<string> {
  return new Promise((resolve) => {
    let output = "";
    const unsubscribe = child.onData((chunk) => {
      output += chunk;
      if (output.includes(text)) {
        unsubscribe();
        resolve(output);
      }
    });
  });
}

/** Host processes whose command line contains `marker`. */
async function processesWith(marker: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    if (cmdline.includes(marker)) found.push(pid);
  }
  return found;
}

async function eventually<T>(probe: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const value = await probe();
    if (done(value) || attempt === 40) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(() => {
  process.env.KILN_SANDBOX_TEST_SECRET = "hunter2";
});

afterAll(async () => {
  delete process.env.KILN_SANDBOX_TEST_SECRET;
  await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })));
});

function freshWorkspace(): Promise<string> {
  return tempDir("kiln-ws-");
}

describe("a bwrap sandbox", () => {
  it("runs a command and reports its merged stdout and stderr and its exit code", async () => {
    const cwd = await freshWorkspace();
    const result = await run({ argv: ["bash", "-c", "echo out; echo err >&2; echo out2; exit 3"], cwd });
    expect(result).toEqual({ output: "out\nerr\nout2\n", status: { exitCode: 3, signal: null } });
  });

  it("starts in the requested working directory, at its real host path", async () => {
    const cwd = await freshWorkspace();
    await mkdir(join(cwd, "sub"));
    const result = await run({
      argv: ["pwd"],
      cwd: join(cwd, "sub"),
      policy: policy("workspace-write", [cwd]),
    });
    expect(result).toEqual({ output: `${cwd}/sub\n`, status: { exitCode: 0, signal: null } });
  });

  it("gives the command a clean environment plus the variables passed in", async () => {
    const cwd = await freshWorkspace();
    const result = await run({ argv: ["env"], cwd, env: { KILN_TASK: "42" } });
    const env = Object.fromEntries(
      result.output
        .trim()
        .split("\n")
        .map((line) => line.split(/=(.*)/s).slice(0, 2)),
    );
    expect(env).toEqual({
      PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      HOME: "/tmp/home",
      LANG: "C.UTF-8",
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: "safe.directory",
      GIT_CONFIG_VALUE_0: "*",
      KILN_TASK: "42",
      PWD: cwd,
    });
  });

  it("never splits a multibyte character across chunks", async () => {
    const cwd = await freshWorkspace();
    const result = await run({
      argv: ["bash", "-c", "printf '\\xc3'; sleep 0.1; printf '\\xa9t\\xc3\\xa9\\n'"],
      cwd,
    });
    expect(result.output).toBe("été\n");
  });

  it("delivers output printed before the caller subscribes", async () => {
    const cwd = await freshWorkspace();
    const child = await provider.spawn({
      argv: ["echo", "early"],
      cwd,
      policy: policy("workspace-write", [cwd]),
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await collectOutput(child)).toEqual({ output: "early\n", status: { exitCode: 0, signal: null } });
  });

  it("passes write() to the command's stdin", async () => {
    const cwd = await freshWorkspace();
    const child = await provider.spawn({
      argv: ["bash", "-c", 'read line; echo "got $line"'],
      cwd,
      policy: policy("workspace-write", [cwd]),
    });
    child.write("hello\n");
    expect(await collectOutput(child)).toEqual({
      output: "got hello\n",
      status: { exitCode: 0, signal: null },
    });
  });
});

describe("the sandbox's file descriptors", () => {
  it("are only stdin, stdout and stderr, even while another session's PTY is open in Kiln", async () => {
    const cwd = await freshWorkspace();
    const terminal = await provider.spawn({
      argv: ["bash", "-c", "echo ready; sleep 100"],
      cwd,
      policy: policy("workspace-write", [cwd]),
      tty: true,
    });
    await waitForOutput(terminal, "ready");
    const result = await run({ argv: ["ls", "/proc/self/fd"], cwd });
    terminal.kill();
    await terminal.exited;
    // ls itself opens fd 3 to read the directory.
    expect(result).toEqual({ output: "0\n1\n2\n3\n", status: { exitCode: 0, signal: null } });
  });
});

describe("the sandbox's filesystem", () => {
  it("lets workspace-write commands write the workspace, and the host sees the file", async () => {
    const cwd = await freshWorkspace();
    const result = await run({ argv: ["bash", "-c", "mkdir -p a/b && echo made > a/b/file.txt"], cwd });
    expect(result.status).toEqual({ exitCode: 0, signal: null });
    expect(await readFile(join(cwd, "a/b/file.txt"), "utf8")).toBe("made\n");
  });

  it("keeps the workspace owned by its owner", async () => {
    const cwd = await freshWorkspace();
    await run({ argv: ["touch", "x"], cwd });
    expect((await stat(cwd)).uid).toBe(process.getuid?.());
  });

  it("refuses writes outside the writable roots", async () => {
    const cwd = await freshWorkspace();
    const targets = ["/etc/kiln-test", "/root/x", "/usr/kiln-test", "/kiln-test", "/home/kiln-test"];
    const script = 'for p in "$@"; do (echo x > "$p") 2>/dev/null && echo "wrote $p"; done; echo checked';
    const result = await run({ argv: ["bash", "-c", script, "bash", ...targets], cwd });
    expect(result).toEqual({ output: "checked\n", status: { exitCode: 0, signal: null } });
    expect(targets.filter((path) => existsSync(path))).toEqual([]);
  });

  it("gives the command a private /tmp: what it writes there, or next to the workspace, never reaches the host", async () => {
    const cwd = await freshWorkspace();
    const leak = `kiln-leak-${process.pid}-${Date.now()}`;
    const result = await run({
      argv: ["bash", "-c", `echo x > /tmp/${leak} && echo x > ../${leak} && ls /tmp`],
      cwd,
    });
    expect(result.status).toEqual({ exitCode: 0, signal: null });
    expect(result.output.split("\n")).toContain(leak);
    expect([existsSync(`/tmp/${leak}`), existsSync(join(cwd, "..", leak))]).toEqual([false, false]);
  });

  it("makes the workspace read-only in read-only mode, but readable", async () => {
    const cwd = await freshWorkspace();
    await writeFile(join(cwd, "README"), "read me\n");
    const result = await run({
      argv: ["bash", "-c", "cat README; echo x > new.txt"],
      cwd,
      policy: policy("read-only", [cwd]),
    });
    expect(result.output).toMatch(/^read me\n.*Read-only file system\n$/);
    expect(result.status.exitCode).toBe(1);
    expect(existsSync(join(cwd, "new.txt"))).toBe(false);
  });

  it("mounts a working directory outside every root read-only", async () => {
    const cwd = await freshWorkspace();
    const result = await run({
      argv: ["bash", "-c", "ls; touch y"],
      cwd,
      policy: policy("workspace-write", []),
    });
    expect(result.output).toContain("Read-only file system");
    expect(result.status.exitCode).toBe(1);
  });

  it("does not follow symlinks out of the workspace", async () => {
    const cwd = await freshWorkspace();
    const outside = await tempDir("kiln-outside-");
    await writeFile(join(outside, "secret"), "top secret\n");
    await symlink(outside, join(cwd, "out"));
    await symlink(join(outside, "secret"), join(cwd, "secret-link"));
    await symlink("/etc", join(cwd, "etc-link"));
    const script =
      "(echo x > out/new) 2>/dev/null && echo wrote-out; (cat secret-link) 2>/dev/null && echo read-secret; (echo x > etc-link/kiln-test) 2>/dev/null && echo wrote-etc; echo done";
    const result = await run({ argv: ["bash", "-c", script], cwd });
    expect(result).toEqual({ output: "done\n", status: { exitCode: 0, signal: null } });
    expect(await readdir(outside)).toEqual(["secret"]);
  });

  it("lets git work in a root-owned repository, and the host's git keeps working", async () => {
    const cwd = await freshWorkspace();
    execFileSync("git", ["init", "-q", cwd]);
    const result = await run({ argv: ["bash", "-c", "echo hi > f.txt && git status --porcelain"], cwd });
    expect(result).toEqual({ output: "?? f.txt\n", status: { exitCode: 0, signal: null } });
    expect(execFileSync("git", ["-C", cwd, "status", "--porcelain"], { encoding: "utf8" })).toBe(
      "?? f.txt\n",
    );
  });
});

describe.runIf(asRoot)("a sandbox started by root", () => {
  it("runs as the unprivileged sandbox uid and cannot read /etc/shadow", async () => {
    const cwd = await freshWorkspace();
    const result = await run({ argv: ["bash", "-c", "id -u; cat /etc/shadow"], cwd });
    expect(result).toEqual({
      output: "61000\ncat: /etc/shadow: Permission denied\n",
      status: { exitCode: 1, signal: null },
    });
  });

  it("uses the uid and gid it is configured with", async () => {
    const cwd = await freshWorkspace();
    const custom = createSandboxProvider("workspace-write", { uid: 61001, gid: 61002 });
    const child = await custom.spawn({
      argv: ["bash", "-c", "id -u; id -g"],
      cwd,
      policy: policy("workspace-write", [cwd]),
    });
    expect(await collectOutput(child)).toEqual({
      output: "61001\n61002\n",
      status: { exitCode: 0, signal: null },
    });
  });
});

describe("the sandbox's network", () => {
  let server: Server;
  let port: number;
  let connections = 0;

  beforeAll(async () => {
    server = createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    port = typeof address === "object" && address !== null ? address.port : 0;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const connect = () => ["bash", "-c", `echo > /dev/tcp/127.0.0.1/${port} && echo connected`];

  it("is cut off: the host's loopback is unreachable", async () => {
    const cwd = await freshWorkspace();
    const before = connections;
    const result = await run({ argv: connect(), cwd });
    expect(result.output).toContain("Connection refused");
    expect(result.status.exitCode).toBe(1);
    expect(connections).toBe(before);
  });

  it("is the host's with networkAccess in workspace-write mode", async () => {
    const cwd = await freshWorkspace();
    const before = connections;
    const result = await run({ argv: connect(), cwd, policy: policy("workspace-write", [cwd], true) });
    expect(result).toEqual({ output: "connected\n", status: { exitCode: 0, signal: null } });
    await eventually(
      async () => connections,
      (count) => count > before,
    );
    expect(connections).toBe(before + 1);
  });

  it("stays cut off in read-only mode even with networkAccess", async () => {
    const cwd = await freshWorkspace();
    const result = await run({ argv: connect(), cwd, policy: policy("read-only", [cwd], true) });
    expect(result.status.exitCode).toBe(1);
  });
});

describe("the sandbox's seccomp filter", () => {
  const ptrace = process.arch === "arm64" ? 117 : 101;

  it("denies creating namespaces with EPERM", async () => {
    const cwd = await freshWorkspace();
    const result = await run({ argv: ["unshare", "-U", "true"], cwd });
    expect(result.output).toContain("Operation not permitted");
    expect(result.status.exitCode).toBe(1);
  });

  it("denies ptrace with EPERM", async () => {
    const cwd = await freshWorkspace();
    const result = await run({
      argv: ["perl", "-e", `syscall(${ptrace}, 0, 0, 0, 0) == -1 and print "$!\\n"`],
      cwd,
    });
    expect(result.output).toBe("Operation not permitted\n");
  });

  it("denies TIOCSTI with EPERM", async () => {
    const cwd = await freshWorkspace();
    const result = await run({
      argv: ["perl", "-e", 'my $c = "x"; ioctl(STDIN, 0x5412, $c) or print "$!\\n"'],
      cwd,
    });
    expect(result.output).toBe("Operation not permitted\n");
  });

  it("still lets node run, threads and child processes included", async () => {
    const cwd = await freshWorkspace();
    const script = "require('node:child_process').execFileSync('true'); console.log(process.versions.node)";
    const result = await run({ argv: ["node", "-e", script], cwd });
    expect(result).toEqual({ output: `${process.versions.node}\n`, status: { exitCode: 0, signal: null } });
  });
});

describe("a sandbox in a terminal", () => {
  it("runs in a PTY of the requested size and receives what is written", async () => {
    const cwd = await freshWorkspace();
    const child = await provider.spawn({
      argv: [
        "bash",
        "-c",
        'tty; test -t 0 && echo is-a-tty; stty size; echo "TERM=$TERM"; read line; echo "got:$line"',
      ],
      cwd,
      policy: policy("workspace-write", [cwd]),
      tty: true,
      cols: 100,
      rows: 30,
    });
    const result = collectOutput(child);
    await waitForOutput(child, "TERM=");
    child.write("hello\r");
    const { output, status } = await result;
    expect(status).toEqual({ exitCode: 0, signal: null });
    expect(output.replace(/\r/g, "")).toMatch(
      /^\/dev\/(console|pts\/\d+)\nis-a-tty\n30 100\nTERM=xterm-256color\n/,
    );
    expect(output).toContain("got:hello");
  });

  it("denies TIOCSTI inside the terminal", async () => {
    const cwd = await freshWorkspace();
    const child = await provider.spawn({
      argv: ["perl", "-e", 'my $c = "x"; ioctl(STDIN, 0x5412, $c) or print "$!\\n"'],
      cwd,
      policy: policy("workspace-write", [cwd]),
      tty: true,
    });
    expect((await collectOutput(child)).output).toBe("Operation not permitted\r\n");
  });

  it("is killed by kill()", async () => {
    const cwd = await freshWorkspace();
    const child = await provider.spawn({
      argv: ["bash", "-c", "echo ready; sleep 100"],
      cwd,
      policy: policy("workspace-write", [cwd]),
      tty: true,
    });
    await waitForOutput(child, "ready");
    child.kill();
    expect(await child.exited).toEqual({ exitCode: null, signal: "SIGKILL" });
  });
});

describe("stopping a sandbox", () => {
  it("kill() ends the whole process tree", async () => {
    const cwd = await freshWorkspace();
    const marker = `10${process.pid}.5`;
    const child = await provider.spawn({
      argv: ["bash", "-c", `sleep ${marker} & sleep ${marker} & echo started; wait`],
      cwd,
      policy: policy("workspace-write", [cwd]),
    });
    await waitForOutput(child, "started");
    const running = await eventually(
      () => processesWith(`sleep\0${marker}`),
      (pids) => pids.length === 2,
    );
    expect(running.length).toBe(2);
    child.kill();
    expect(await child.exited).toEqual({ exitCode: null, signal: "SIGKILL" });
    expect(
      await eventually(
        () => processesWith(`sleep\0${marker}`),
        (pids) => pids.length === 0,
      ),
    ).toEqual([]);
  });

  it("kill() with SIGTERM also takes the sandbox down", async () => {
    const cwd = await freshWorkspace();
    const child = await provider.spawn({
      argv: ["bash", "-c", "trap '' TERM; echo started; sleep 100"],
      cwd,
      policy: policy("workspace-write", [cwd]),
    });
    await waitForOutput(child, "started");
    child.kill("SIGTERM");
    expect(await child.exited).toEqual({ exitCode: null, signal: "SIGTERM" });
  });

  it("aborting the signal kills the command", async () => {
    const cwd = await freshWorkspace();
    const controller = new AbortController();
    const child = await provider.spawn({
      argv: ["bash", "-c", "echo started; sleep 100"],
      cwd,
      policy: policy("workspace-write", [cwd]),
      signal: controller.signal,
    });
    await waitForOutput(child, "started");
    controller.abort();
    expect(await child.exited).toEqual({ exitCode: null, signal: "SIGKILL" });
  });

  it("refuses to start with a signal that is already aborted", async () => {
    const cwd = await freshWorkspace();
    const spawning = provider.spawn({
      argv: ["true"],
      cwd,
      policy: policy("workspace-write", [cwd]),
      signal: AbortSignal.abort(),
    });
    await expect(spawning).rejects.toMatchObject({ name: "AbortError" });
  });
});

describe("choosing a sandbox", () => {
  const hint =
    "bubblewrap is not installed: `apt-get install bubblewrap`, or run with `--sandbox danger-full-access`";

  it("fails up front with an install hint when bwrap is missing", () => {
    const create = () => createSandboxProvider("workspace-write", { bwrapPath: "/nonexistent/bwrap" });
    expect(create).toThrow(KilnError);
    expect(create).toThrow(expect.objectContaining({ code: "sandbox_unavailable", message: hint }));
  });

  it("never falls back to the host when a confined command is asked of a host provider without bwrap", async () => {
    const cwd = await freshWorkspace();
    const host = createSandboxProvider("danger-full-access", { bwrapPath: "/nonexistent/bwrap" });
    expect(host.kind).toBe("none");
    await expect(
      host.spawn({ argv: ["true"], cwd, policy: policy("read-only", [cwd]) }),
    ).rejects.toMatchObject({
      code: "sandbox_unavailable",
      message: hint,
    });
  });

  it.runIf(asRoot)("refuses to run sandboxed commands as root", () => {
    expect(() => createSandboxProvider("workspace-write", { uid: 0 })).toThrow(
      expect.objectContaining({ code: "config_invalid" }),
    );
  });

  it("refuses to make system directories writable", async () => {
    const cwd = await freshWorkspace();
    const spawning = provider.spawn({ argv: ["true"], cwd, policy: policy("workspace-write", ["/usr/lib"]) });
    await expect(spawning).rejects.toMatchObject({ code: "sandbox_denied" });
    await expect(
      provider.spawn({ argv: ["true"], cwd, policy: policy("workspace-write", ["/"]) }),
    ).rejects.toMatchObject({ code: "sandbox_denied" });
  });

  it("refuses a writable root that does not exist", async () => {
    const cwd = await freshWorkspace();
    const missing = join(cwd, "missing");
    await expect(
      provider.spawn({ argv: ["true"], cwd, policy: policy("workspace-write", [missing]) }),
    ).rejects.toMatchObject({
      code: "sandbox_denied",
      message: `Writable root ${missing} does not exist or is not a directory.`,
    });
  });
});
