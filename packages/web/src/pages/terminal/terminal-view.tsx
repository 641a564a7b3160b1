// The terminal page's screen: xterm.js attached to a sandbox's terminal WebSocket (terminal-session.ts),
// fitted to its box (the fit addon, again whenever the box changes size: a rotated phone, a resized
// window), with the session's state and a Reconnect button above it.
import "./terminal.css";
import "@xterm/xterm/css/xterm.css";
import type { KilnClient } from "@kiln/sdk";
import { FitAddon } from "@xterm/addon-fit";
import { Terminal } from "@xterm/xterm";
import { useEffect, useRef, useState } from "react";
import { errorMessage } from "../../lib/format.ts";
import {
  describePhase,
  openTerminalSession,
  type TerminalPhase,
  terminalSocketUrl,
} from "./terminal-session.ts";

/** Props of {@link TerminalView}. */
export interface TerminalViewProps {
  client: KilnClient;
  sandboxId: string;
  /** Dark colours (else light); switching keeps the session. */
  dark?: boolean;
}

const DARK = { background: "#1e1e1e", foreground: "#d4d4d4", cursor: "#d4d4d4" };
const LIGHT = {
  background: "#ffffff",
  foreground: "#1e1e1e",
  cursor: "#1e1e1e",
  selectionBackground: "#add6ff",
};

/** An interactive shell in the sandbox. */
export function TerminalView({ client, sandboxId, dark = false }: TerminalViewProps) {
  const box = useRef<HTMLDivElement>(null);
  const [phase, setPhase] = useState<TerminalPhase>({ type: "connecting" });
  const [attempt, setAttempt] = useState(0);
  const terminal = useRef<Terminal>(undefined);
  const darkNow = useRef(dark);
  darkNow.current = dark;

  useEffect(() => {
    if (terminal.current !== undefined) terminal.current.options.theme = dark ? DARK : LIGHT;
  }, [dark]);

  // `attempt` is a trigger: Reconnect bumps it to open a new session.
  // biome-ignore lint/correctness/useExhaustiveDependencies: attempt restarts the effect on purpose
  useEffect(() => {
    const element = box.current;
    if (element === null) return;
    const abort = new AbortController();
    const term = new Terminal({
      cursorBlink: true,
      fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace",
      fontSize: 14,
      scrollback: 5000,
      theme: dark
        ? { background: "#1e1e1e" }
        : { background: "#ffffff", foreground: "#1e1e1e", cursor: "#1e1e1e" },
    });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(element);
    safeFit(fit);
    let session: ReturnType<typeof openTerminalSession> | undefined;
    const onData = term.onData((data) => session?.input(data));
    const onResize = term.onResize(({ cols, rows }) => session?.resize(cols, rows));
    let frame = 0;
    const observer = new ResizeObserver(() => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => safeFit(fit));
    });
    observer.observe(element);

    terminalSocketUrl(client, sandboxId, { cols: term.cols, rows: term.rows }, abort.signal).then(
      (url) => {
        if (abort.signal.aborted) return;
        session = openTerminalSession(url, {
          onOutput: (data) => term.write(data),
          onPhase: (next) => {
            if (abort.signal.aborted) return;
            setPhase(next);
            if (next.type === "open") term.focus();
            if (next.type === "exited" || next.type === "closed") {
              term.write(`\r\n\x1b[2m[${describePhase(next)}]\x1b[0m\r\n`);
            }
          },
        });
      },
      (error: unknown) => {
        if (abort.signal.aborted) return;
        setPhase({ type: "closed", reason: errorMessage(error) });
      },
    );

    return () => {
      abort.abort();
      cancelAnimationFrame(frame);
      observer.disconnect();
      onData.dispose();
      onResize.dispose();
      session?.close();
      term.dispose();
      terminal.current = undefined;
    };
  }, [client, sandboxId, attempt]);

  const ended = phase.type === "exited" || phase.type === "closed";
  return (
    <section className="terminal" aria-label="Terminal">
      <div className="terminal-bar">
        <p role="status" className="terminal-status">
          {describePhase(phase)}
        </p>
        {ended && (
          <button type="button" onClick={() => setAttempt((a) => a + 1)}>
            {phase.type === "exited" ? "Start a new shell" : "Reconnect"}
          </button>
        )}
      </div>
      <div ref={box} className="terminal-screen" />
    </section>
  );
}

/** Fits the terminal to its box; a box with no size yet (hidden, not laid out) is left alone. */
function safeFit(fit: FitAddon): void {
  const size = fit.proposeDimensions();
  if (size === undefined || !Number.isFinite(size.cols) || !Number.isFinite(size.rows)) return;
  if (size.cols < 2 || size.rows < 1) return;
  fit.fit();
}
