// `client.tasks`: tasks (a prompt run against an environment as best-of-N attempts), their event
// streams, and the helpers that wait for one to end (`poll` asks again and again; `createAndWait`
// follows the task's events and fetches the task once it has ended).
import {
  FollowUpAccepted as FollowUpAcceptedSchema,
  type FollowUpRequest,
  PublishedAttempt,
  SandboxResource,
  Task,
  TaskEventEnvelope,
  TaskList,
  type TaskStatus,
} from "@kiln/protocol";
import type {
  CreateTaskInput,
  FollowUpAccepted,
  PublishAttemptRequest,
  UpdateTaskRequest,
} from "./api-types.ts";
import { sleep } from "./backoff.ts";
import { type EventStreamOptions, followEventStream } from "./follow-event-stream.ts";
import type { CallOptions, HttpClient } from "./http-client.ts";

/** `GET /tasks` filters. */
export interface TaskListOptions {
  status?: TaskStatus;
  environmentId?: string;
  archived?: boolean;
  /** Words to find in titles and prompts. */
  search?: string;
  limit?: number;
  /** From a previous page's `nextCursor`. */
  cursor?: string;
}

/** Options of {@link TasksApi.poll}. */
export interface PollOptions {
  /** Time between requests, in ms (default 2 000). */
  intervalMs?: number;
  signal?: AbortSignal;
  /** Stop when this holds (default: the status is terminal). */
  until?: (task: Task) => boolean;
}

/** Options of {@link TasksApi.createAndWait}. */
export interface CreateAndWaitOptions extends Omit<EventStreamOptions, "after"> {
  /** Called with each of the task's events as it comes. */
  onEvent?: (event: TaskEventEnvelope) => void;
}

/** The statuses a task does not leave on its own. */
export const TERMINAL_TASK_STATUSES: readonly TaskStatus[] = ["completed", "failed", "cancelled"];

/** Whether a task (or attempt) status is final (`completed`, `failed` or `cancelled`). */
export function isTerminalStatus(status: TaskStatus): boolean {
  return TERMINAL_TASK_STATUSES.includes(status);
}

const enc = encodeURIComponent;

/** The task routes. */
export class TasksApi {
  readonly #http: HttpClient;

  constructor(http: HttpClient) {
    this.#http = http;
  }

  /** Creates a task (201, status `queued`: it runs in the background). */
  create(request: CreateTaskInput, options: CallOptions = {}): Promise<Task> {
    return this.#http.json("POST", "/tasks", Task, { body: request, ...options });
  }

  /** A task with its attempts. */
  get(id: string, options: CallOptions = {}): Promise<Task> {
    return this.#http.json("GET", `/tasks/${enc(id)}`, Task, options);
  }

  /** The caller's tasks, newest first, one page at a time. */
  list(query: TaskListOptions = {}, options: CallOptions = {}): Promise<TaskList> {
    return this.#http.json("GET", "/tasks", TaskList, {
      query: {
        status: query.status,
        environmentId: query.environmentId,
        archived: query.archived,
        search: query.search,
        limit: query.limit,
        cursor: query.cursor,
      },
      ...options,
    });
  }

  /** Renames and/or archives a task. */
  update(id: string, request: UpdateTaskRequest, options: CallOptions = {}): Promise<Task> {
    return this.#http.json("PATCH", `/tasks/${enc(id)}`, Task, { body: request, ...options });
  }

  /** Archives (or, with `false`, unarchives) a task. */
  archive(id: string, archived = true, options: CallOptions = {}): Promise<Task> {
    return this.update(id, { archived }, options);
  }

  /** Cancels a task: its attempts are interrupted and its status becomes `cancelled`. */
  cancel(id: string, options: CallOptions = {}): Promise<Task> {
    return this.#http.json("POST", `/tasks/${enc(id)}/cancel`, Task, options);
  }

  /** A follow-up prompt, answered by one attempt (default: the first that completed) in its workspace. */
  followUp(id: string, request: FollowUpRequest, options: CallOptions = {}): Promise<FollowUpAccepted> {
    return this.#http.json("POST", `/tasks/${enc(id)}/turns`, FollowUpAcceptedSchema, {
      body: request,
      ...options,
    });
  }

  /** The attempt's (id, or index 0–3) latest diff against the task's base commit (`git apply`-able). */
  diff(id: string, attempt: string | number, options: CallOptions = {}): Promise<string> {
    return this.#http.text("GET", `/tasks/${enc(id)}/attempts/${enc(String(attempt))}/diff`, {
      headers: { accept: "text/x-diff" },
      ...options,
    });
  }

  /** The sandbox of the task's first attempt. */
  sandbox(id: string, options: CallOptions = {}): Promise<SandboxResource> {
    return this.#http.json("GET", `/tasks/${enc(id)}/sandbox`, SandboxResource, options);
  }

  /** Pushes the attempt's (id, or index 0–3) work to a branch (and opens a pull request when a forge is configured). */
  publish(
    id: string,
    attempt: string | number,
    request: PublishAttemptRequest = {},
    options: CallOptions = {},
  ): Promise<PublishedAttempt> {
    return this.#http.json(
      "POST",
      `/tasks/${enc(id)}/attempts/${enc(String(attempt))}/publish`,
      PublishedAttempt,
      {
        body: request,
        ...options,
      },
    );
  }

  /** Fetches the task every `intervalMs` until `until` holds (default: a terminal status). */
  async poll(id: string, options: PollOptions = {}): Promise<Task> {
    const until = options.until ?? ((task: Task) => isTerminalStatus(task.status));
    const call = options.signal === undefined ? {} : { signal: options.signal };
    for (;;) {
      const task = await this.get(id, call);
      if (until(task)) return task;
      await sleep(options.intervalMs ?? 2_000, options.signal);
    }
  }

  /**
   * The task's events after `after` (default: all), then live ones, until `signal` aborts or the loop
   * breaks; a dropped connection is resumed with no gap and no duplicate.
   */
  watch(id: string, options: EventStreamOptions = {}): AsyncGenerator<TaskEventEnvelope> {
    return followEventStream(this.#http, `/tasks/${enc(id)}/events`, TaskEventEnvelope, options);
  }

  /** Creates a task, follows its events until its status is terminal, and resolves with the task. */
  async createAndWait(request: CreateTaskInput, options: CreateAndWaitOptions = {}): Promise<Task> {
    const call = options.signal === undefined ? {} : { signal: options.signal };
    const created = await this.create(request, call);
    if (isTerminalStatus(created.status)) return created;
    for await (const envelope of this.watch(created.id, options)) {
      options.onEvent?.(envelope);
      const { event } = envelope;
      if (event.type === "task/status" && isTerminalStatus(event.status)) return this.get(created.id, call);
    }
    // watch() only ends by throwing; this is for the type checker.
    return this.get(created.id, call);
  }
}
