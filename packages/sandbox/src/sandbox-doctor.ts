// `kiln doctor` for sandboxes: checks each piece the bwrap sandbox depends on by using it for real —
// the tools are present, a namespace sandbox starts, the seccomp filter loads and denies, root is
// dropped, node-pty loads, and a sandbox cannot reach the host's loopback.
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SandboxPolicy } from "@kiln/protocol";
import { type BwrapLauncher, createBwrapLauncher } from "./bwrap-runner.ts";
import { type CommandResult, collectOutput } from "./collect-output.ts";
import { createSandboxProvider } from "./sandbox-provider.ts";
import { loadNodePty } from "./spawn-pty.ts";
import { findSystemTool, isExecutable } from "./system-tools.ts";
import type { SandboxProvider, SandboxProviderOptions } from "./types.ts";

/** One line of `kiln doctor`. */
export interface DoctorCheck {
  /** What was checked, e.g. "bubblewrap". */
  name: string;
  /** Whether it works. */
  ok: boolean;
  /** What was found (a version, an error). */
  detail: string;
  /** What to do when it does not work. */
  fix?: string;
}

const checkTimeoutMs = 10_000;
const userNamespaceFix =
  "Allow unprivileged user namespaces: `sysctl -w user.max_user_namespaces=15000` (Ubuntu 24.04+: also " +
  "`sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`); in a container, allow `unshare` in its seccomp profile.";

/** Runs every sandbox check; never throws (a failure is a check with `ok: false`). */
export async function runSandboxDoctor(options: SandboxProviderOptions = {}): Promise<DoctorCheck[]> {
  const asRoot = process.getuid?.() === 0;
  const checks: DoctorCheck[] = [
    await checkBubblewrap(options.bwrapPath),
    checkSetfacl(asRoot),
    await checkNodePty(),
  ];
  if (!checks[0]?.ok) return [...checks, ...skipped("bubblewrap is missing")];

  let launcher: BwrapLauncher;
  try {
    launcher = createBwrapLauncher(options);
  } catch (error) {
    return [...checks, ...skipped(errorText(error))];
  }
  const namespaces = await checkNamespaces(launcher);
  checks.push(namespaces);
  if (!namespaces.ok) return [...checks, ...skipped("namespaces do not work").slice(1)];

  const workspace = await mkdtemp(join(tmpdir(), "kiln-doctor-"));
  try {
    const provider = createSandboxProvider("workspace-write", options);
    const policy: SandboxPolicy = {
      mode: "workspace-write",
      writableRoots: [workspace],
      networkAccess: false,
    };
    const run = (argv: string[]) => runIn(provider, { argv, cwd: workspace, policy });
    checks.push(
      await checkSeccomp(run),
      await checkSandboxUser(run, launcher.uid, asRoot),
      await checkNetwork(run),
    );
  } finally {
    await rm(workspace, { recursive: true, force: true });
  }
  return checks;
}

function skipped(reason: string): DoctorCheck[] {
  return ["namespaces", "seccomp", "sandbox user", "network isolation"].map((name) => ({
    name,
    ok: false,
    detail: `not checked: ${reason}`,
  }));
}

async function checkBubblewrap(override: string | undefined): Promise<DoctorCheck> {
  const path = override ?? findSystemTool("bwrap");
  const fix = "`apt-get install bubblewrap`, or run with `--sandbox danger-full-access`";
  if (path === undefined || !isExecutable(path)) {
    return { name: "bubblewrap", ok: false, detail: `not found${override ? ` at ${override}` : ""}`, fix };
  }
  const version = await exec(path, ["--version"]);
  return version.ok
    ? { name: "bubblewrap", ok: true, detail: `${version.output.trim()} at ${path}` }
    : { name: "bubblewrap", ok: false, detail: `${path} --version failed: ${version.output.trim()}`, fix };
}

function checkSetfacl(asRoot: boolean): DoctorCheck {
  if (!asRoot) return { name: "setfacl", ok: true, detail: "not needed: Kiln does not run as root" };
  const path = findSystemTool("setfacl");
  return path === undefined
    ? {
        name: "setfacl",
        ok: false,
        detail: "not found (needed to let the sandbox user into workspaces)",
        fix: "`apt-get install acl`",
      }
    : { name: "setfacl", ok: true, detail: path };
}

async function checkNodePty(): Promise<DoctorCheck> {
  try {
    await loadNodePty();
    return { name: "node-pty", ok: true, detail: "loads" };
  } catch (error) {
    return {
      name: "node-pty",
      ok: false,
      detail: errorText(error),
      fix: "`npm rebuild node-pty` (needs python3, make, g++)",
    };
  }
}

async function checkNamespaces(launcher: BwrapLauncher): Promise<DoctorCheck> {
  const [file = "", ...prefix] = launcher.prefix;
  const args = [
    ...prefix,
    "--unshare-all",
    "--ro-bind",
    "/",
    "/",
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "--",
    "true",
  ];
  const result = await exec(file, args);
  return result.ok
    ? { name: "namespaces", ok: true, detail: "bwrap starts a sandbox with every namespace unshared" }
    : { name: "namespaces", ok: false, detail: result.output.trim(), fix: userNamespaceFix };
}

type Run = (argv: string[]) => Promise<CommandResult>;

async function checkSeccomp(run: Run): Promise<DoctorCheck> {
  const plain = await run(["true"]).catch((error: unknown) => failure(error));
  if (plain.status.exitCode !== 0) {
    return {
      name: "seccomp",
      ok: false,
      detail: `a sandbox with the filter does not start: ${plain.output.trim()}`,
    };
  }
  const denied = await run(["unshare", "-U", "true"]).catch((error: unknown) => failure(error));
  return denied.status.exitCode !== 0 && denied.output.includes("Operation not permitted")
    ? { name: "seccomp", ok: true, detail: "filter loads; unshare is denied with EPERM" }
    : {
        name: "seccomp",
        ok: false,
        detail: `unshare was not denied: ${denied.output.trim() || "it succeeded"}`,
      };
}

async function checkSandboxUser(run: Run, uid: number, asRoot: boolean): Promise<DoctorCheck> {
  const result = await run(["id", "-u"]).catch((error: unknown) => failure(error));
  const seen = result.output.trim();
  if (seen !== String(uid)) {
    return {
      name: "sandbox user",
      ok: false,
      detail: `expected uid ${uid} inside the sandbox, got ${seen || "nothing"}`,
    };
  }
  return {
    name: "sandbox user",
    ok: true,
    detail: asRoot
      ? `commands run as unprivileged uid ${uid}, not root`
      : `commands run as Kiln's own uid ${uid}`,
  };
}

async function checkNetwork(run: Run): Promise<DoctorCheck> {
  let connections = 0;
  const server = createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  try {
    const result = await run(["bash", "-c", `echo > /dev/tcp/127.0.0.1/${port}`]).catch((error: unknown) =>
      failure(error),
    );
    return result.status.exitCode !== 0 && connections === 0
      ? { name: "network isolation", ok: true, detail: "a sandbox cannot reach the host's loopback" }
      : { name: "network isolation", ok: false, detail: `a sandbox reached 127.0.0.1:${port} on the host` };
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

async function runIn(
  provider: SandboxProvider,
  options: Parameters<SandboxProvider["spawn"]>[0],
): Promise<CommandResult> {
  const child = await provider.spawn({ ...options, signal: AbortSignal.timeout(checkTimeoutMs) });
  return collectOutput(child);
}

function failure(error: unknown): CommandResult {
  return { output: errorText(error), status: { exitCode: null, signal: null } };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function exec(file: string, args: string[]): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env: {}, timeout: checkTimeoutMs }, (error, stdout, stderr) => {
      resolve({ ok: error === null, output: `${stdout}${stderr}` || (error?.message ?? "") });
    });
  });
}
