// An embedder's hook for durable execution (e.g. Restate's `ctx.run`): each model call and each tool
// call runs through `step`, which records its result the first time and returns the recorded result on
// a replay without running it again. The events a step emits are part of its result, so a replay emits
// the same events (same order, same seqs) as the first run. Without a journal a thread runs as before.
import type { IdPrefix, InputPart, ThreadEvent } from "@kiln/protocol";
import type { ApprovalDecision } from "../tools/tool.ts";
import type { PendingApproval } from "./approval-gate.ts";

/** Runs side effects once and makes ids replay-stable. */
export interface StepJournal {
  /**
   * Runs `fn` once: its result (JSON) is recorded; on a replay the recorded result is returned and
   * `fn` is not called. `name` identifies the step in the journal.
   */
  step<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** Ids made outside steps (items, approvals): the same on a replay as on the first run. */
  newId(prefix: IdPrefix): string;
  /**
   * Waits durably for a person's decision (e.g. a Restate awakeable). With it, a tool call that asks
   * for an approval is stopped at the question inside its step, the approval is asked between steps
   * through this hook, and the call runs again in a new step with the decision. Without it, approvals
   * are asked inside the tool's step, as without a journal.
   */
  approval?(request: PendingApproval, signal: AbortSignal): Promise<ApprovalDecision>;
  /**
   * Input sent to the running turn from elsewhere (steering through a durable engine's API nodes).
   * Called inside a step (each model call's, and one when the model gives its final answer), with a
   * key unique in the turn: it takes the input that arrived, and answers the same input again when
   * called again with the same key (a step retried after a crash), so nothing is lost or taken twice.
   */
  inbox?(key: string): Promise<InputPart[][]>;
  /**
   * Runs inside each mutating tool call's step, after the call ran: a durable engine saves the
   * workspace there (a checkpoint another worker can restore), so a step is recorded only once its
   * effects are saved. Answers a warning for the user when it could not save.
   */
  afterMutation?(): Promise<string | undefined>;
}

/** What a journaled step records: its value and the events it emitted. */
export interface JournaledStep<T> {
  value: T;
  events: ThreadEvent[];
}

/**
 * Runs `fn` as one journaled step, collecting the events it emits; then emits them (recorded or
 * fresh) through `emit`. Events of a step therefore reach the stream when the step has completed.
 */
export async function journaledStep<T>(
  journal: StepJournal,
  name: string,
  emit: (event: ThreadEvent) => void,
  fn: (emit: (event: ThreadEvent) => void) => Promise<T>,
): Promise<T> {
  const recorded = await journal.step<JournaledStep<T>>(name, async () => {
    const events: ThreadEvent[] = [];
    const value = await fn((event) => events.push(event));
    return { value, events };
  });
  for (const event of recorded.events) emit(event);
  return recorded.value;
}

/** The output of a mutating call that was running when the process running the turn died. */
export const INTERRUPTED_STEP_OUTPUT =
  "Error: this tool call was interrupted: the worker running it stopped (killed or crashed) while it ran, so it may have partly run. Check its effects before running it again.";
