import type { SandboxPolicy } from "@kiln/protocol";

/** What to run, where, and under which policy. */
export interface SpawnOptions {
  /** The command and its arguments, e.g. `["bash", "-lc", "ls -la"]`; `argv[0]` is looked up on PATH. */
  argv: string[];
  /** Absolute host path; inside a bwrap sandbox it is the same path. */
  cwd: string;
  /** The sandbox policy for this command; its `mode` picks bwrap or the host. */
  policy: SandboxPolicy;
  /** Variables added on top of the clean base environment (they win over the base). */
  env?: Record<string, string>;
  /** Run in a pseudo-terminal (node-pty) instead of pipes. */
  tty?: boolean;
  /** PTY width in columns (default 80). */
  cols?: number;
  /** PTY height in rows (default 24). */
  rows?: number;
  /** Aborting kills the whole process tree (SIGKILL). */
  signal?: AbortSignal;
  /**
   * Keep stderr apart from stdout (pipes only; a PTY has one stream): `onData` then gets stdout alone
   * and `onStderr` gets stderr. Off by default, because merging keeps the exact interleaving.
   */
  separateStderr?: boolean;
  /**
   * A host command line that starts first, as Kiln's own user and outside any sandbox, and must exec
   * the rest of its arguments (e.g. `prlimit --as=N --`, or a script that joins a cgroup). It is how
   * resource limits reach the sandbox before any sandboxed process exists.
   */
  hostPrefix?: string[];
}

/** How a command ended: an exit code, or the signal that killed it. */
export interface ExitStatus {
  /** The exit code, or null when a signal ended the process. */
  exitCode: number | null;
  /** The signal's name (e.g. "SIGKILL"), or null when the process exited by itself. */
  signal: string | null;
}

/** A running command. */
export interface SandboxProcess {
  /** Host pid of the outermost process (setpriv/bwrap, or the command itself on the host). */
  readonly pid: number;
  /**
   * Output as text: stdout and stderr merged in the order the command wrote them (one pipe), decoded
   * as UTF-8 without ever splitting a character. Output produced before the first listener subscribes
   * is buffered and handed to it. Returns an unsubscribe function.
   */
  onData(listener: (chunk: string) => void): () => void;
  /** Stderr alone, decoded and buffered like `onData`; present only when spawned with `separateStderr`. */
  onStderr?(listener: (chunk: string) => void): () => void;
  /** Writes to the command's stdin (or the PTY). Ignored once the command has exited. */
  write(data: string): void;
  /** Changes the terminal's size (the foreground program gets SIGWINCH); present only for PTY processes. */
  resize?(cols: number, rows: number): void;
  /** Signals the whole process group (for bwrap: the whole sandbox). Defaults to SIGKILL. */
  kill(signal?: NodeJS.Signals): void;
  /** Resolves once, after the command has ended and all its output has been delivered. */
  readonly exited: Promise<ExitStatus>;
}

/** Runs commands under a sandbox policy. */
export interface SandboxProvider {
  /** "bwrap" when this provider can confine commands, "none" when it only runs them on the host. */
  readonly kind: "bwrap" | "none";
  /** Starts a command; rejects with `KilnError` (`sandbox_unavailable`, `sandbox_denied`) before starting. */
  spawn(options: SpawnOptions): Promise<SandboxProcess>;
}

/** Knobs for the bwrap sandbox. */
export interface SandboxProviderOptions {
  /** Host uid sandboxed commands run as when Kiln runs as root (default 61000). */
  uid?: number;
  /** Host gid sandboxed commands run as when Kiln runs as root (default: same as uid). */
  gid?: number;
  /** Path of the bwrap binary (default: found in the system directories). */
  bwrapPath?: string;
}
