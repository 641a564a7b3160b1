// A thread to run turns in. `runStreamed` is the primitive: note the thread's last seq, start the turn,
// then follow the thread's events from that seq until this turn's `turn/completed` (the stream
// resumes itself across dropped connections). `run` folds that stream into a result.
import type {
  ErrorInfo,
  EventEnvelope,
  ThreadItem,
  ThreadResource,
  TurnInput,
  TurnStatus,
  Usage,
} from "@kiln/protocol";
import { KilnError } from "@kiln/protocol";
import type { ThreadItemEntry, TurnSignalAccepted } from "./api-types.ts";
import type { ReconnectOptions } from "./backoff.ts";
import type { EventStreamOptions } from "./follow-event-stream.ts";
import type { CallOptions } from "./http-client.ts";
import type { ThreadsApi } from "./threads-api.ts";

/** Options of a turn. */
export interface RunOptions {
  /** Stops waiting (the turn goes on on the server: call `interrupt()` to stop it). */
  signal?: AbortSignal;
  /** JSON Schema the final message must match. */
  outputSchema?: Record<string, unknown>;
  reconnect?: ReconnectOptions;
}

/** What a turn produced. */
export interface RunResult {
  turnId: string;
  /** The turn's completed items, in order (the user's message first). */
  items: ThreadItem[];
  /** The text of the last agent message ("" when there was none). */
  finalResponse: string;
  usage: Usage;
  /** `completed`, `failed` or `interrupted` (a failed turn resolves too: check this and `error`). */
  status: TurnStatus;
  error?: ErrorInfo;
}

/** A thread of the server. */
export class Thread {
  /** The thread's id (`thr_…`). */
  readonly id: string;
  readonly #api: ThreadsApi;
  #resource: ThreadResource | undefined;

  constructor(api: ThreadsApi, id: string, resource?: ThreadResource) {
    this.#api = api;
    this.id = id;
    this.#resource = resource;
  }

  /** The thread as last fetched (by `start`, `get` or a run), if it was. */
  get resource(): ThreadResource | undefined {
    return this.#resource;
  }

  /** Fetches the thread (with its turns). */
  async get(options: CallOptions = {}): Promise<ThreadResource> {
    this.#resource = await this.#api.get(this.id, options);
    return this.#resource;
  }

  /** Runs a turn and resolves when it has ended. */
  async run(input: TurnInput, options: RunOptions = {}): Promise<RunResult> {
    return foldTurn(this.runStreamed(input, options));
  }

  /**
   * Starts a turn and yields the thread's events for it, ending with its `turn/completed`. A dropped
   * connection is resumed: every event comes exactly once, in seq order.
   */
  async *runStreamed(input: TurnInput, options: RunOptions = {}): AsyncGenerator<EventEnvelope> {
    const call = options.signal === undefined ? {} : { signal: options.signal };
    const before = await this.get(call);
    const accepted = await this.#api.startTurn(
      this.id,
      { input, ...(options.outputSchema === undefined ? {} : { outputSchema: options.outputSchema }) },
      call,
    );
    const stream: EventStreamOptions = {
      after: before.lastSeq,
      ...call,
      ...(options.reconnect === undefined ? {} : { reconnect: options.reconnect }),
    };
    for await (const envelope of this.#api.events(this.id, stream)) {
      if (envelope.turnId !== undefined && envelope.turnId !== accepted.turnId) continue;
      yield envelope;
      if (envelope.event.type === "turn/completed" && envelope.event.turnId === accepted.turnId) return;
    }
  }

  /** The thread's events after `after`, then live ones (see `client.threads.events`). */
  events(options: EventStreamOptions = {}): AsyncGenerator<EventEnvelope> {
    return this.#api.events(this.id, options);
  }

  /** The thread's completed items. */
  items(options: CallOptions = {}): Promise<ThreadItemEntry[]> {
    return this.#api.items(this.id, options);
  }

  /** Stops the running turn. */
  interrupt(options: CallOptions = {}): Promise<TurnSignalAccepted> {
    return this.#api.interrupt(this.id, options);
  }

  /** Adds input to the running turn. */
  steer(input: TurnInput, options: CallOptions = {}): Promise<TurnSignalAccepted> {
    return this.#api.steer(this.id, input, options);
  }
}

/** Folds a turn's events (as `runStreamed` yields them) into its result. */
export async function foldTurn(events: AsyncIterable<EventEnvelope>): Promise<RunResult> {
  const items: ThreadItem[] = [];
  let finalResponse = "";
  for await (const { event } of events) {
    if (event.type === "item/completed") {
      items.push(event.item);
      if (event.item.type === "agentMessage") finalResponse = event.item.text;
    }
    if (event.type === "turn/completed") {
      return {
        turnId: event.turnId,
        items,
        finalResponse,
        usage: event.usage,
        status: event.status,
        ...(event.error === undefined ? {} : { error: event.error }),
      };
    }
  }
  throw new KilnError("internal", "the turn's event stream ended before its turn/completed event");
}
