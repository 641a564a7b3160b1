// A task's own events (not its attempts' agent events, which are on their threads' streams), folded
// into what the task view shows beside the task itself: how far preparing the environment got, and
// the setup log per phase.
import type { ErrorInfo, ProvisionPhase, TaskEventEnvelope } from "@kiln/protocol";

/** One phase of preparing the environment. */
export interface PhaseState {
  status: "pending" | "started" | "completed" | "skipped" | "failed";
  durationMs: number | undefined;
  error: ErrorInfo | undefined;
  log: string;
}

/** The folded task events. */
export interface TaskEventsState {
  lastSeq: number;
  phases: Record<ProvisionPhase, PhaseState>;
}

const pending = (): PhaseState => ({ status: "pending", durationMs: undefined, error: undefined, log: "" });

/** Nothing seen yet. */
export const EMPTY_TASK_EVENTS: TaskEventsState = {
  lastSeq: 0,
  phases: { clone: pending(), setup: pending(), ready: pending() },
};

/** The longest log kept per phase (the end matters most: it says why setup failed). */
const MAX_LOG = 200_000;

/** Folds `envelopes` into `state`; those at or before `state.lastSeq` are skipped. */
export function applyTaskEvents(
  state: TaskEventsState,
  envelopes: readonly TaskEventEnvelope[],
): TaskEventsState {
  let next = state;
  for (const { seq, event } of envelopes) {
    if (seq <= next.lastSeq) continue;
    next = { ...next, lastSeq: seq };
    if (event.type === "environment/phase") {
      const phase = next.phases[event.phase];
      next.phases = {
        ...next.phases,
        [event.phase]: { ...phase, status: event.status, durationMs: event.durationMs, error: event.error },
      };
    } else if (event.type === "environment/log") {
      const phase = next.phases[event.phase];
      const log = (phase.log + event.text).slice(-MAX_LOG);
      next.phases = { ...next.phases, [event.phase]: { ...phase, log } };
    }
  }
  return next;
}

/** Whether an event changes the task itself (so the view fetches it again). */
export function changesTask(envelope: TaskEventEnvelope): boolean {
  return envelope.event.type !== "environment/log";
}
