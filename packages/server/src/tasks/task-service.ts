// The task service's contract: what the native routes and the WHAM routes call. One implementation
// (createTaskService) runs tasks in this process on top of the turn executor, the environment cache
// and the sandbox manager.
import type {
  CreateEnvironmentRequest,
  CreateTaskRequest,
  Environment,
  EnvironmentTemplate,
  FollowUpRequest,
  PublishedAttempt,
  SandboxResource,
  Task,
  TaskEventEnvelope,
  TaskList,
  UpdateEnvironmentRequest,
} from "@kiln/protocol";
import type { TaskListQuery } from "@kiln/store";

/** Who is asking (the authenticated user). */
export interface TaskCaller {
  id: string;
  role: "admin" | "user";
}

/** Environments, tasks and their sandboxes, scoped to the caller: another user's object is `not_found`. */
export interface TaskService {
  templates(): EnvironmentTemplate[];
  createEnvironment(caller: TaskCaller, request: CreateEnvironmentRequest): Promise<Environment>;
  listEnvironments(caller: TaskCaller): Promise<Environment[]>;
  getEnvironment(caller: TaskCaller, id: string): Promise<Environment>;
  updateEnvironment(caller: TaskCaller, id: string, request: UpdateEnvironmentRequest): Promise<Environment>;
  deleteEnvironment(caller: TaskCaller, id: string): Promise<void>;

  /** Records the task and starts its attempts in the background; answers at once (status `queued`). */
  createTask(caller: TaskCaller, request: CreateTaskRequest): Promise<Task>;
  getTask(caller: TaskCaller, id: string): Promise<Task>;
  listTasks(caller: TaskCaller, query: TaskListQuery): Promise<TaskList>;
  /** Interrupts every running attempt; the task ends `cancelled`. */
  cancelTask(caller: TaskCaller, id: string): Promise<Task>;
  updateTask(caller: TaskCaller, id: string, changes: { title?: string; archived?: boolean }): Promise<Task>;
  /** A follow-up prompt answered by one attempt in its workspace. */
  followUp(
    caller: TaskCaller,
    id: string,
    request: FollowUpRequest,
  ): Promise<{ userTurnId: string; turnId: string; attemptId: string }>;
  /** The latest diff of an attempt (empty when it changed nothing). */
  attemptDiff(caller: TaskCaller, taskId: string, attemptId: string): Promise<string>;
  publishAttempt(
    caller: TaskCaller,
    taskId: string,
    attemptId: string,
    options: { branch?: string; draft?: boolean },
  ): Promise<PublishedAttempt>;
  /** Task events after `afterSeq` (stored ones), then live ones until the signal aborts. */
  followTask(
    caller: TaskCaller,
    taskId: string,
    afterSeq: number,
    signal: AbortSignal,
  ): Promise<AsyncIterable<TaskEventEnvelope>>;
  /**
   * A fresh copy of an environment's prepared repository for a chat thread (`POST /threads` with
   * `environmentId`), with the environment's network policy.
   */
  environmentWorkspace(
    caller: TaskCaller,
    environmentId: string,
  ): Promise<{ workspace: string; networkAccess: boolean }>;
  /** The sandbox of a task's attempt (default: the first attempt); prepared when it is not yet. */
  taskSandbox(caller: TaskCaller, taskId: string, attemptId?: string): Promise<SandboxResource>;
}
