// Runs the host's git for environment preparation and workspace diffs. Two environments:
//   - "clean" (the default): nothing from Kiln's process, no system or global config, no hooks, HOME
//     pointing nowhere (so no ~/.config/git/ignore or attributes), and discovery stopped at `cwd` so
//     a workspace that is not a repository is never mistaken for an enclosing one;
//   - "remote": for clone/fetch of the user's repository, which may need the operator's credential
//     helpers, SSH keys and proxies, so HOME and global config are kept (minus variables that would
//     point git at another repository).
import { spawn } from "node:child_process";
import { dirname } from "node:path";
import { KilnError } from "@kiln/protocol";
import { findSystemTool } from "../system-tools.ts";

/** How one git command ended. */
export interface GitResult {
  exitCode: number;
  stdout: Buffer;
  stderr: string;
}

/** Options of {@link runGit}. */
export interface RunGitOptions {
  /** Absolute working directory (a real path: it also becomes the discovery ceiling). */
  cwd: string;
  /** Extra variables (temporary index, object directory …). */
  env?: Record<string, string>;
  /** Written to stdin. */
  input?: string | Buffer;
  /** Keep the operator's HOME and global config (clone/fetch of a remote). */
  remote?: boolean;
  signal?: AbortSignal;
}

/** Variables that would make git operate on another repository than the one we point it at. */
const repositoryVariables = new Set([
  "GIT_DIR",
  "GIT_WORK_TREE",
  "GIT_INDEX_FILE",
  "GIT_OBJECT_DIRECTORY",
  "GIT_ALTERNATE_OBJECT_DIRECTORIES",
  "GIT_COMMON_DIR",
  "GIT_NAMESPACE",
  "GIT_CEILING_DIRECTORIES",
  "GIT_DISCOVERY_ACROSS_FILESYSTEM",
  "GIT_CONFIG",
  "GIT_CONFIG_PARAMETERS",
  "GIT_CONFIG_COUNT",
]);

const systemPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// `-c` overrides that hold for every command: no hooks from anywhere, paths printed as they are.
const baseConfig = ["-c", "core.hooksPath=/dev/null", "-c", "core.quotePath=off"];

// Looked up once: the answer does not change while Kiln runs.
let gitBinary: string | undefined;

/** Runs `git args…`; resolves with its exit code and output (a non-zero exit is not an error here). */
export async function runGit(args: string[], options: RunGitOptions): Promise<GitResult> {
  if (options.signal?.aborted) throw interruptedError();
  gitBinary ??= findSystemTool("git");
  if (gitBinary === undefined) {
    throw new KilnError("environment_failed", "git is not installed on the server: `apt-get install git`.");
  }
  const env = options.remote === true ? remoteEnv() : cleanEnv(options.cwd);
  const child = spawn(gitBinary, [...baseConfig, ...args], {
    cwd: options.cwd,
    env: { ...env, ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
    ...(options.signal === undefined ? {} : { signal: options.signal, killSignal: "SIGKILL" }),
  });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
  // git may exit before reading all of stdin (e.g. a patch it rejects early): not our error.
  child.stdin.on("error", () => {});
  child.stdin.end(options.input ?? "");
  const exitCode = await new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve(code ?? -1));
  }).catch((error: unknown) => {
    if (options.signal?.aborted) throw interruptedError();
    throw new KilnError("internal", `Could not run git: ${String(error)}`, { cause: error });
  });
  if (options.signal?.aborted) throw interruptedError();
  return { exitCode, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr).toString("utf8").trim() };
}

/**
 * Runs git and returns its stdout as text; a non-zero exit throws `KilnError(code)` whose message is
 * `what` followed by git's own explanation.
 */
export async function gitOutput(
  args: string[],
  options: RunGitOptions & { what: string; code?: "environment_failed" | "internal" | "invalid_request" },
): Promise<string> {
  const result = await runGit(args, options);
  if (result.exitCode !== 0) {
    const reason = result.stderr || `git exited with code ${result.exitCode}`;
    throw new KilnError(options.code ?? "internal", `${options.what}: ${reason}`);
  }
  return result.stdout.toString("utf8");
}

/** The error for work stopped through an AbortSignal; `what` names the work ("Preparing the environment"). */
export function interruptedError(what = "The git command"): KilnError {
  return new KilnError("turn_interrupted", `${what} was cancelled.`);
}

function cleanEnv(cwd: string): Record<string, string> {
  return {
    PATH: systemPath,
    // Not a directory: git's per-user ignore and attribute files (~/.config/git/…) cannot exist.
    HOME: "/dev/null",
    LANG: "C",
    LC_ALL: "C",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
    GIT_CEILING_DIRECTORIES: dirname(cwd),
  };
}

function remoteEnv(): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !repositoryVariables.has(name)) kept[name] = value;
  }
  return { ...kept, LANG: "C", LC_ALL: "C", GIT_TERMINAL_PROMPT: "0" };
}
