// One thread's write path. Envelopes from the agent are appended to the store in order (batched),
// with the same seq the rollout gave them; then the thread's and turn's status and the usage records
// are updated, and only then are the envelopes published to live subscribers, as one batch (each
// subscriber writes them in one go). Everything for one thread goes through one serial queue, so
// statuses never race. The rollout (JSONL) is written before an envelope reaches us: if the process
// dies in between, `catchUpFromRollout` appends what the store lacks when the thread is loaded again.
import { readRollout } from "@kiln/core";
import type { ApiTurnStatus } from "@kiln/protocol";
import { type EventEnvelope, KilnError, type TurnStatus } from "@kiln/protocol";
import type { KilnStore } from "@kiln/store";
import type { Logger } from "pino";
import type { EventHub } from "../events/event-hub.ts";
import type { Metrics } from "../http/metrics.ts";

/** What a pipeline writes to. */
export interface PipelineDeps {
  store: KilnStore;
  hub: EventHub;
  metrics: Metrics;
  logger: Logger;
  now: () => number;
}

/** The thread a pipeline writes for. */
export interface PipelineThread {
  id: string;
  userId: string;
  rolloutPath: string;
  model: () => string;
}

/** The serial store writer of one thread. */
export class EventPipeline {
  private tail: Promise<void> = Promise.resolve();
  private readonly queue: EventEnvelope[] = [];

  private constructor(
    private readonly deps: PipelineDeps,
    private readonly thread: PipelineThread,
    private storeSeq: number,
  ) {}

  /** Opens the pipeline of a thread and brings the store up to date with its rollout. */
  static async open(deps: PipelineDeps, thread: PipelineThread): Promise<EventPipeline> {
    const lastSeq = await deps.store.events.lastSeq({ userId: thread.userId, threadId: thread.id });
    if (lastSeq === undefined) throw new KilnError("not_found", `no thread ${thread.id}`);
    const pipeline = new EventPipeline(deps, thread, lastSeq);
    await pipeline.enqueue(() => pipeline.catchUpFromRollout());
    return pipeline;
  }

  /** Queues an envelope; resolves once it (and everything before it) is stored and published. */
  push(envelope: EventEnvelope): Promise<void> {
    this.queue.push(envelope);
    return this.enqueue(() => this.drain());
  }

  /** Runs `fn` in the thread's queue (after everything pushed before it). */
  enqueue(fn: () => Promise<void>): Promise<void> {
    const run = this.tail.then(fn);
    this.tail = run.catch((error: unknown) => {
      this.deps.logger.error({ err: error, threadId: this.thread.id }, "thread event pipeline failed");
    });
    return run;
  }

  /** Waits for everything queued so far. */
  flush(): Promise<void> {
    return this.tail;
  }

  private async drain(): Promise<void> {
    const batch = this.queue.splice(0);
    if (batch.length === 0) return;
    if ((batch[0]?.seq ?? 0) !== this.storeSeq + 1) await this.catchUpFromRollout();
    await this.store(batch.filter((e) => e.seq > this.storeSeq));
  }

  /** Appends the rollout's events that the store does not have yet. */
  private async catchUpFromRollout(): Promise<void> {
    const missing = readRollout(this.thread.rolloutPath).events.filter((e) => e.seq > this.storeSeq);
    if (missing.length === 0) return;
    this.deps.logger.warn(
      { threadId: this.thread.id, from: missing[0]?.seq, to: missing.at(-1)?.seq },
      "appending events the store missed (the server stopped between the rollout and the store)",
    );
    await this.store(missing);
  }

  private async store(envelopes: EventEnvelope[]): Promise<void> {
    if (envelopes.length === 0) return;
    const { store, hub, metrics } = this.deps;
    const stored = await store.events.append(
      this.thread.id,
      envelopes.map((e) => ({ turnId: e.turnId, at: e.at, event: e.event })),
    );
    const mismatch = stored.findIndex((s, i) => s.seq !== envelopes[i]?.seq);
    if (mismatch !== -1) {
      this.deps.logger.error(
        { threadId: this.thread.id, expected: envelopes[mismatch]?.seq, got: stored[mismatch]?.seq },
        "event seq in the store differs from the rollout's",
      );
    }
    this.storeSeq = stored.at(-1)?.seq ?? this.storeSeq;
    metrics.eventsAppended += stored.length;
    for (const envelope of stored) await this.effects(envelope);
    hub.publishBatch(stored);
  }

  /** Keeps turns, the thread's status and usage current. */
  private async effects({ event, turnId, at }: EventEnvelope): Promise<void> {
    const { store, metrics, now } = this.deps;
    const scope = { userId: this.thread.userId, threadId: this.thread.id };
    if (event.type === "turn/started") {
      await this.startTurn(event.turnId);
      await store.threads.setStatus(scope, "running", now());
      metrics.turnsStarted++;
      return;
    }
    if (event.type === "usage/updated" && turnId !== undefined) {
      await store.usage.record({
        userId: this.thread.userId,
        threadId: this.thread.id,
        turnId,
        model: this.thread.model(),
        usage: event.call,
        ...(event.cost === undefined ? {} : { costUsd: event.cost.callUsd }),
        at,
      });
      return;
    }
    if (event.type === "turn/completed") {
      const status = apiTurnStatus(event.status);
      await store.turns.markFinished(event.turnId, {
        status,
        now: now(),
        ...(event.error === undefined ? {} : { error: event.error }),
      });
      await store.threads.setStatus(scope, "idle", now());
      if (status === "completed") metrics.turnsCompleted++;
      else if (status === "failed") metrics.turnsFailed++;
      else metrics.turnsInterrupted++;
    }
  }

  /** Records a turn as running (a resumed turn exists already: it runs again). */
  private async startTurn(turnId: string): Promise<void> {
    const { store, now } = this.deps;
    try {
      await store.turns.create({ id: turnId, threadId: this.thread.id, status: "running", now: now() });
    } catch (error) {
      if (!(error instanceof KilnError && error.code === "conflict")) throw error;
      await store.turns.setStatus(turnId, "running", now());
    }
  }
}

/** The API's status of a turn that ended (or runs). */
export function apiTurnStatus(status: TurnStatus): ApiTurnStatus {
  return status === "in_progress" ? "running" : status;
}
