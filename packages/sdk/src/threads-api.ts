// `client.threads`: the native API's thread routes, and `start`/`resume`, which give a Thread object
// that runs turns (thread.ts).
import {
  type CreateThreadRequest,
  EventEnvelope,
  type ForkThreadRequest,
  type StartTurnRequest,
  ThreadItemList,
  ThreadList,
  ThreadResource,
  type ThreadStatus,
  ThreadUsageReport as ThreadUsageReportSchema,
  TurnAccepted as TurnAcceptedSchema,
  type TurnInput,
  TurnSignalAccepted as TurnSignalAcceptedSchema,
  type UpdateThreadRequest,
} from "@kiln/protocol";
import type {
  ThreadItemEntry,
  ThreadPage,
  ThreadUsageReport,
  TurnAccepted,
  TurnSignalAccepted,
} from "./api-types.ts";
import { type EventStreamOptions, followEventStream } from "./follow-event-stream.ts";
import type { CallOptions, HttpClient } from "./http-client.ts";
import { Thread } from "./thread.ts";

/** `GET /threads` filters. */
export interface ThreadListOptions {
  /** From a previous page's `nextCursor`. */
  cursor?: string;
  limit?: number;
  archived?: boolean;
  status?: ThreadStatus;
  /** Words to find in titles. */
  search?: string;
}

const enc = encodeURIComponent;

/** The thread routes. */
export class ThreadsApi {
  readonly #http: HttpClient;

  constructor(http: HttpClient) {
    this.#http = http;
  }

  /** Creates a thread (in a fresh workspace unless `cwd` is given) and returns it ready to run turns. */
  async start(request: CreateThreadRequest = {}, options: CallOptions = {}): Promise<Thread> {
    const resource = await this.#http.json("POST", "/threads", ThreadResource, { body: request, ...options });
    return new Thread(this, resource.id, resource);
  }

  /** A Thread object for an existing thread (no request is made). */
  resume(id: string): Thread {
    return new Thread(this, id);
  }

  /** A thread with its turns. */
  get(id: string, options: CallOptions = {}): Promise<ThreadResource> {
    return this.#http.json("GET", `/threads/${enc(id)}`, ThreadResource, options);
  }

  /** The caller's threads, newest first, one page at a time. */
  list(query: ThreadListOptions = {}, options: CallOptions = {}): Promise<ThreadPage> {
    return this.#http.json("GET", "/threads", ThreadList, {
      query: {
        cursor: query.cursor,
        limit: query.limit,
        archived: query.archived,
        status: query.status,
        q: query.search,
      },
      ...options,
    });
  }

  /** Renames and/or archives a thread. */
  update(id: string, request: UpdateThreadRequest, options: CallOptions = {}): Promise<ThreadResource> {
    return this.#http.json("PATCH", `/threads/${enc(id)}`, ThreadResource, { body: request, ...options });
  }

  /** A new thread with this one's history (up to `atTurn`). */
  async fork(id: string, request: ForkThreadRequest = {}, options: CallOptions = {}): Promise<Thread> {
    const resource = await this.#http.json("POST", `/threads/${enc(id)}/fork`, ThreadResource, {
      body: request,
      ...options,
    });
    return new Thread(this, resource.id, resource);
  }

  /** Drops the last `turns` turns from the model's history (files are not reverted). */
  rollback(id: string, turns: number, options: CallOptions = {}): Promise<ThreadResource> {
    return this.#http.json("POST", `/threads/${enc(id)}/rollback`, ThreadResource, {
      body: { turns },
      ...options,
    });
  }

  /** The thread's completed items, oldest first. */
  async items(id: string, options: CallOptions = {}): Promise<ThreadItemEntry[]> {
    return (await this.#http.json("GET", `/threads/${enc(id)}/items`, ThreadItemList, options)).items;
  }

  /** The thread's model usage. */
  usage(id: string, options: CallOptions = {}): Promise<ThreadUsageReport> {
    return this.#http.json("GET", `/threads/${enc(id)}/usage`, ThreadUsageReportSchema, options);
  }

  /** Starts a turn (202: it runs on the server; follow it with `events`). 409 while another runs. */
  startTurn(id: string, request: StartTurnRequest, options: CallOptions = {}): Promise<TurnAccepted> {
    return this.#http.json("POST", `/threads/${enc(id)}/turns`, TurnAcceptedSchema, {
      body: request,
      ...options,
    });
  }

  /** Adds input to the running turn. */
  steer(id: string, input: TurnInput, options: CallOptions = {}): Promise<TurnSignalAccepted> {
    return this.#http.json("POST", `/threads/${enc(id)}/steer`, TurnSignalAcceptedSchema, {
      body: { input },
      ...options,
    });
  }

  /** Stops the running turn (it ends with status `interrupted`). */
  interrupt(id: string, options: CallOptions = {}): Promise<TurnSignalAccepted> {
    return this.#http.json("POST", `/threads/${enc(id)}/interrupt`, TurnSignalAcceptedSchema, options);
  }

  /**
   * The thread's events after `after` (default: all), then live ones, forever (until `signal` aborts
   * or the loop breaks); a dropped connection is resumed with no gap and no duplicate.
   */
  events(id: string, options: EventStreamOptions = {}): AsyncGenerator<EventEnvelope> {
    return followEventStream(this.#http, `/threads/${enc(id)}/events`, EventEnvelope, options);
  }
}
