// Runs git for publishing, isolated from whatever is configured on the server: no system or global
// config, an empty HOME, no prompts (a missing credential fails instead of hanging), no remote-helper
// protocols a repository string could smuggle in, and a floor on HTTP transfer speed so a stalled
// server does not hold a publish forever.
import { spawn } from "node:child_process";

/** How one git command ended. */
export interface GitResult {
  /** Exit code (null when killed by a signal). */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** How to run git. */
export interface RunGitOptions {
  /** Working directory (a repository). */
  cwd: string;
  /** An empty directory used as HOME, so no `~/.gitconfig` or credential store is read. */
  home: string;
  /** Extra environment variables (author identity). */
  env?: Record<string, string>;
  /** Config given through `GIT_CONFIG_COUNT`/`KEY_n`/`VALUE_n`, so values (an auth header) never
   *  appear on a command line that `ps` shows, nor in a config file. */
  config?: ReadonlyArray<readonly [key: string, value: string]>;
  /** Written to git's stdin (a patch, a commit message). */
  input?: string;
  signal?: AbortSignal;
}

const MAX_OUTPUT = 4 * 1024 * 1024;

/** Runs `git <args>` and resolves with its exit code and output; rejects only if git cannot start or the signal aborts. */
export function runGit(args: readonly string[], options: RunGitOptions): Promise<GitResult> {
  options.signal?.throwIfAborted();
  return new Promise((resolve, reject) => {
    const child = spawn("git", args, {
      cwd: options.cwd,
      env: { ...isolatedEnv(options.home), ...configEnv(options.config ?? []), ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
      signal: options.signal,
    });
    const stdout = collect(child.stdout);
    const stderr = collect(child.stderr);
    child.on("error", (error) => {
      reject(options.signal?.aborted ? options.signal.reason : error);
    });
    child.on("close", (code) => {
      if (options.signal?.aborted) return reject(options.signal.reason);
      resolve({ code, stdout: stdout(), stderr: stderr() });
    });
    // git may exit before reading all of its input (a rejected patch); that is reported by its exit code.
    child.stdin.on("error", () => {});
    child.stdin.end(options.input ?? "");
  });
}

/** The last lines of git's stderr, for an error message. */
export function stderrTail(stderr: string, maxChars = 800): string {
  const text = stderr.trim();
  return text.length <= maxChars ? text : `…${text.slice(-maxChars)}`;
}

function collect(stream: NodeJS.ReadableStream): () => string {
  const chunks: Buffer[] = [];
  let size = 0;
  stream.on("data", (chunk: Buffer) => {
    if (size >= MAX_OUTPUT) return;
    chunks.push(chunk);
    size += chunk.length;
  });
  return () => Buffer.concat(chunks).toString("utf8");
}

// Only git's own transports; `ext::`, `fd::` and other remote helpers that a user-supplied repository
// string could name are refused.
const PROTOCOLS: ReadonlyArray<readonly [string, string]> = [
  ["protocol.allow", "never"],
  ...["file", "git", "ssh", "http", "https"].map((name) => [`protocol.${name}.allow`, "always"] as const),
];

function configEnv(config: ReadonlyArray<readonly [string, string]>): Record<string, string> {
  const all = [...PROTOCOLS, ...config];
  const env: Record<string, string> = { GIT_CONFIG_COUNT: String(all.length) };
  for (const [index, [key, value]] of all.entries()) {
    env[`GIT_CONFIG_KEY_${index}`] = key;
    env[`GIT_CONFIG_VALUE_${index}`] = value;
  }
  return env;
}

function isolatedEnv(home: string): Record<string, string> {
  // GIT_* from the server's own environment (GIT_DIR from a hook, GIT_ASKPASS, …) would change what
  // git does here; only the operator's choice of ssh command is kept.
  const inherited = Object.entries(process.env).filter(
    (entry): entry is [string, string] =>
      entry[1] !== undefined &&
      (!entry[0].startsWith("GIT_") || entry[0] === "GIT_SSH_COMMAND" || entry[0] === "GIT_SSH") &&
      entry[0] !== "SSH_ASKPASS" &&
      entry[0] !== "XDG_CONFIG_HOME",
  );
  return {
    ...Object.fromEntries(inherited),
    HOME: home,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
    GIT_HTTP_LOW_SPEED_LIMIT: "1000",
    GIT_HTTP_LOW_SPEED_TIME: "60",
    ...(process.env.GIT_SSH_COMMAND || process.env.GIT_SSH
      ? {}
      : { GIT_SSH_COMMAND: "ssh -o BatchMode=yes" }),
    LC_ALL: "C",
  };
}
