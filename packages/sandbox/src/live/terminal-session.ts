// A web terminal's session: returned at once (the WebSocket is already open), while the shell starts
// in the background. Input and resizes that arrive before the shell is up are held and applied when it
// is; a session closed before that kills the shell as soon as it exists.
import { KilnError } from "@kiln/protocol";
import { createOutputChannel } from "../output-channel.ts";
import type { ExitStatus, SandboxProcess } from "../types.ts";
import { killUntilExited } from "./kill-until-exited.ts";

/** An interactive shell in a PTY inside a live sandbox (the web terminal). */
export interface TerminalSession {
  /** Terminal output (decoded UTF-8); output before the first listener is held for it. Returns an unsubscribe function. */
  onData(listener: (data: string) => void): () => void;
  /** Types into the terminal (keystrokes, `\r` for Enter). */
  write(data: string): void;
  /** Changes the terminal's size (1–1000 each); the shell and its foreground program get SIGWINCH. */
  resize(cols: number, rows: number): void;
  /** Ends the session (kills the shell and everything it started). */
  close(): void;
  /**
   * Resolves once the shell runs; rejects with the KilnError when it could not start (that error is
   * also shown in the terminal's output, and `exited` then resolves with no exit code and no signal).
   */
  readonly started: Promise<void>;
  /** Resolves when the shell has ended and its output has been delivered. Never rejects. */
  readonly exited: Promise<ExitStatus>;
}

/** Size of a new terminal. */
export interface TerminalOptions {
  cols: number;
  rows: number;
  /** Aborting closes the session. */
  signal?: AbortSignal;
}

/**
 * Wraps a shell that `start` launches (in a PTY of the given size). `touch` is called on input and on
 * output: a terminal that is only open, with nothing happening in it, lets the sandbox idle.
 */
export function openTerminal(
  start: (options: TerminalOptions) => Promise<SandboxProcess>,
  options: TerminalOptions,
  touch: () => void,
): TerminalSession {
  checkSize(options.cols, options.rows);
  // Our own channel keeps holding output back until the caller's first listener arrives.
  const output = createOutputChannel();
  let shell: SandboxProcess | undefined;
  let ended = false;
  let closed = false;
  let size = { cols: options.cols, rows: options.rows };
  const heldInput: string[] = [];

  const started = start(options).then((child) => {
    shell = child;
    void child.exited.then(() => {
      ended = true;
    });
    child.onData((data) => {
      touch();
      output.emit(data);
    });
    if (closed) {
      killUntilExited(child);
      return;
    }
    if (size.cols !== options.cols || size.rows !== options.rows) child.resize?.(size.cols, size.rows);
    for (const data of heldInput.splice(0)) child.write(data);
  });
  // The rejection is for those who wait on `started`; everyone else sees it in the output.
  started.catch(() => {});
  const exited = started.then(
    () => (shell as SandboxProcess).exited,
    (error: unknown): ExitStatus => {
      const message = error instanceof Error ? error.message : String(error);
      output.emit(`\r\n[kiln: the terminal could not start: ${message}]\r\n`);
      return { exitCode: null, signal: null };
    },
  );

  return {
    onData: (listener) => output.subscribe(listener),
    write(data) {
      touch();
      if (shell === undefined) heldInput.push(data);
      else shell.write(data);
    },
    resize(cols, rows) {
      checkSize(cols, rows);
      size = { cols, rows };
      shell?.resize?.(cols, rows);
    },
    close() {
      closed = true;
      if (shell !== undefined && !ended) killUntilExited(shell);
    },
    started,
    exited,
  };
}

function checkSize(cols: number, rows: number): void {
  const ok = (value: number) => Number.isInteger(value) && value >= 1 && value <= 1000;
  if (!ok(cols) || !ok(rows)) {
    throw new KilnError(
      "invalid_request",
      `A terminal is 1–1000 columns by 1–1000 rows, got ${cols}×${rows}.`,
    );
  }
}
