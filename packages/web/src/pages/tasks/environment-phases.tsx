// How far preparing the task's environment got: clone → setup → ready, each with its state and
// time, and the setup log (collapsed; opened by itself when a phase failed).
import type { ProvisionPhase } from "@kiln/protocol";
import { formatDuration } from "../../lib/format.ts";
import type { PhaseState, TaskEventsState } from "./task-events.ts";

const PHASES: { phase: ProvisionPhase; label: string }[] = [
  { phase: "clone", label: "Clone" },
  { phase: "setup", label: "Setup" },
  { phase: "ready", label: "Ready" },
];

const ICON: Record<PhaseState["status"], string> = {
  pending: "○",
  started: "◐",
  completed: "●",
  skipped: "◌",
  failed: "✕",
};

/** The environment's phases and setup log. */
export function EnvironmentPhases({ events }: { events: TaskEventsState }) {
  const log = PHASES.map(({ phase }) => events.phases[phase].log).join("");
  const failed = PHASES.some(({ phase }) => events.phases[phase].status === "failed");
  return (
    <section className="phases" aria-label="Environment">
      <ol className="phase-list">
        {PHASES.map(({ phase, label }) => {
          const state = events.phases[phase];
          const skipped = state.status === "skipped" ? " (cached)" : "";
          return (
            <li key={phase} className={`phase phase-${state.status}`}>
              <span aria-hidden="true" className="phase-icon">
                {ICON[state.status]}
              </span>
              <span>
                {label}
                <span className="sr-only">: {state.status}</span>
                {skipped}
              </span>
              {state.durationMs !== undefined && (
                <span className="muted small">{formatDuration(state.durationMs)}</span>
              )}
              {state.error !== undefined && <span className="error small">{state.error.message}</span>}
            </li>
          );
        })}
      </ol>
      {log !== "" && (
        <details className="setup-log" open={failed}>
          <summary>Setup log</summary>
          <pre role="log" aria-live="off" aria-label="Setup log">
            {log}
          </pre>
        </details>
      )}
    </section>
  );
}
