// A loaded thread in the executor, and the background loop that consumes one turn's stream: every
// envelope goes to the thread's pipeline (store, statuses, live hub); the loop resolves the caller
// once `turn/started` is stored, and at shutdown interrupts the turn at the end of its current step.
import type { AgentThread } from "@kiln/core";
import { type EventEnvelope, KilnError, type ThreadEvent } from "@kiln/protocol";
import type { Logger } from "pino";
import type { EventPipeline } from "./event-pipeline.ts";

/** The turn a thread is running. */
export interface RunningTurn {
  turnId: string | undefined;
  /** `turn/completed` was seen: the turn is ending. */
  ending: boolean;
  /** Interrupt at the end of the current step (shutdown). */
  stopAtStep: boolean;
  /** Settles when the stream has ended and everything is stored. */
  done: Promise<void>;
}

/** A thread loaded in this process. */
export interface ThreadHandle {
  id: string;
  userId: string;
  agent: AgentThread;
  pipeline: EventPipeline;
  running: RunningTurn | undefined;
}

/**
 * Consumes `stream` in the background as the thread's running turn (tracked in `running`, a set of
 * thread ids); resolves with the turn's id once its `turn/started` is stored.
 */
export function driveTurn(
  handle: ThreadHandle,
  runningThreads: Set<string>,
  logger: Logger,
  stream: AsyncIterable<EventEnvelope>,
): Promise<string> {
  let started: (turnId: string) => void = () => undefined;
  let failed: (error: unknown) => void = () => undefined;
  const startedPromise = new Promise<string>((resolve, reject) => {
    started = resolve;
    failed = reject;
  });
  const running: RunningTurn = {
    turnId: undefined,
    ending: false,
    stopAtStep: false,
    done: Promise.resolve(),
  };
  handle.running = running;
  runningThreads.add(handle.id);
  running.done = (async () => {
    try {
      for await (const envelope of stream) {
        const { event } = envelope;
        const stored = handle.pipeline.push(envelope);
        if (event.type === "turn/started") {
          running.turnId = event.turnId;
          stored.then(() => started(event.turnId), failed);
        }
        if (event.type === "turn/completed" && event.turnId === running.turnId) running.ending = true;
        if (running.stopAtStep && endsStep(event)) handle.agent.interrupt();
      }
    } catch (error) {
      logger.error({ err: error, threadId: handle.id }, "the turn's stream failed");
      failed(error);
    } finally {
      await handle.pipeline.flush();
      if (handle.running === running) handle.running = undefined;
      runningThreads.delete(handle.id);
      failed(new KilnError("internal", "the turn ended before it started"));
    }
  })();
  return startedPromise;
}

/** The end of a step: a model call answered, or a tool call finished. */
function endsStep(event: ThreadEvent): boolean {
  if (event.type === "usage/updated") return true;
  if (event.type !== "item/completed") return false;
  const type = event.item.type;
  return (
    type === "commandExecution" ||
    type === "fileChange" ||
    type === "mcpToolCall" ||
    type === "toolCall" ||
    type === "subAgent" ||
    type === "contextCompaction"
  );
}
