// A command the agent ran: the command line, its output as it streams, then exit code and duration.
import type { CommandExecutionItem } from "@kiln/protocol";
import { memo, useEffect, useRef } from "react";
import { formatDuration } from "../lib/format.ts";
import type { ItemState } from "./fold-events.ts";
import { useNow } from "./use-now.ts";

/** Props of {@link CommandCard}. */
export interface CommandCardProps {
  item: CommandExecutionItem;
  /** Default: `completed` unless the item's status is `in_progress`. */
  state?: ItemState;
  /** Unix ms when it started (for the running time while it runs). */
  startedAt?: number;
}

/** A command card: command, streaming output, exit code, duration. */
export const CommandCard = memo(function CommandCard({ item, state, startedAt }: CommandCardProps) {
  const running = (state ?? (item.status === "in_progress" ? "streaming" : "completed")) === "streaming";
  const now = useNow(running && startedAt !== undefined);
  const output = useRef<HTMLPreElement>(null);
  useEffect(() => {
    // Follow the output while it streams, unless the reader scrolled up.
    const pre = output.current;
    if (!running || pre === null) return;
    if (pre.scrollHeight - pre.scrollTop - pre.clientHeight < 48) pre.scrollTop = pre.scrollHeight;
  });
  const duration =
    item.durationMs !== null
      ? formatDuration(item.durationMs)
      : running && startedAt !== undefined
        ? formatDuration(Math.max(0, now - startedAt))
        : undefined;
  const failed = item.exitCode !== null && item.exitCode !== 0;
  return (
    <article
      className={`event card command-card${failed || item.status === "failed" ? " is-failed" : ""}`}
      aria-label={`Command: ${item.command}`}
      aria-busy={running}
    >
      <header className="card-header">
        <code className="command-line">
          <span aria-hidden="true">$ </span>
          {item.command}
        </code>
        <span className="card-meta">
          <CommandStatus item={item} running={running} />
          {duration !== undefined && <span className="duration">{duration}</span>}
        </span>
      </header>
      {item.aggregatedOutput !== "" && (
        <pre
          ref={output}
          className="command-output"
          role="log"
          aria-live="off"
          aria-label={`Output of ${item.command}`}
        >
          {item.aggregatedOutput}
        </pre>
      )}
      {item.sessionId !== undefined && running && (
        <p className="muted small">Still running in the background (session {item.sessionId}).</p>
      )}
    </article>
  );
});

function CommandStatus({ item, running }: { item: CommandExecutionItem; running: boolean }) {
  if (running) return <span className="pill pill-running">running</span>;
  if (item.exitCode !== null) {
    return (
      <span className={`pill ${item.exitCode === 0 ? "pill-ok" : "pill-failed"}`}>exit {item.exitCode}</span>
    );
  }
  return <span className={`pill pill-${item.status}`}>{item.status.replace("_", " ")}</span>;
}
