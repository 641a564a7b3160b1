import type { SandboxProcess } from "@kiln/sandbox";
import { BoundedText } from "./bounded-text.ts";

/** Output kept per command between reads; the model sees at most max_output_tokens of it anyway. */
const MAX_UNREAD_CHARS = 2 * 1024 * 1024;

/** A command that is still running after its call returned (continued with `write_stdin`). */
export interface ExecSession {
  id: number;
  command: string;
  cwd: string;
  process: SandboxProcess;
  startedAt: number;
  /** Output not yet given to the model (bounded: head and tail of at most 2 MiB). */
  unread: BoundedText;
  exit: { exitCode: number | null; signal: string | null } | undefined;
  /** Resolves when the process has exited and all output is in. */
  done: Promise<void>;
}

/** Live background processes of one thread. Oldest are killed past the limit. */
export interface ExecSessions {
  /** Starts tracking a process; returns its session. */
  track(command: string, cwd: string, process: SandboxProcess): ExecSession;
  /** Makes a tracked process a background session with an id the model can use. */
  keep(session: ExecSession): number;
  get(id: number): ExecSession | undefined;
  release(id: number): void;
  /** Kills every process (thread closed). */
  closeAll(): void;
}

/** Background sessions for one thread. */
export function createExecSessions(limit = 16): ExecSessions {
  const live = new Map<number, ExecSession>();
  let nextId = 1000;
  return {
    track(command, cwd, process) {
      const session: ExecSession = {
        id: 0,
        command,
        cwd,
        process,
        startedAt: Date.now(),
        unread: new BoundedText(MAX_UNREAD_CHARS),
        exit: undefined,
        done: Promise.resolve(),
      };
      process.onData((chunk) => {
        session.unread.append(chunk);
      });
      session.done = process.exited.then((status) => {
        session.exit = status;
      });
      return session;
    },
    keep(session) {
      session.id = nextId++;
      live.set(session.id, session);
      if (live.size > limit) {
        const oldest = live.values().next().value;
        if (oldest !== undefined) {
          oldest.process.kill("SIGKILL");
          live.delete(oldest.id);
        }
      }
      return session.id;
    },
    get: (id) => live.get(id),
    release(id) {
      live.delete(id);
    },
    closeAll() {
      for (const session of live.values()) session.process.kill("SIGKILL");
      live.clear();
    },
  };
}

/**
 * Waits until the session's process exits or `yieldMs` passes (aborted by `signal`), then hands back
 * the output read so far.
 */
export async function collect(
  session: ExecSession,
  yieldMs: number,
  signal: AbortSignal,
): Promise<{ output: string; exited: boolean }> {
  if (session.exit === undefined && !signal.aborted) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(finish, yieldMs);
      function finish() {
        clearTimeout(timer);
        signal.removeEventListener("abort", finish);
        resolve();
      }
      signal.addEventListener("abort", finish, { once: true });
      void session.done.then(finish);
    });
  }
  const output = session.unread.take();
  return { output, exited: session.exit !== undefined };
}
