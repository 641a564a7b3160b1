// Environment, task and sandbox routes of the native API, in document order.
import {
  CreateEnvironmentRequest,
  CreateTaskRequest,
  Environment,
  EnvironmentList,
  EnvironmentTemplateList,
  FollowUpAccepted,
  FollowUpRequest,
  PublishedAttempt,
  PublishRequest,
  SandboxDirectoryListing,
  SandboxExecRequest,
  SandboxExecResult,
  SandboxFileContent,
  SandboxFileEntry,
  SandboxResource,
  SandboxStatus,
  SandboxTokenResponse,
  SandboxWriteFileRequest,
  SavedPromptList,
  Task,
  TaskEventEnvelope,
  TaskList,
  TerminalServerMessage,
  UpdateEnvironmentRequest,
  UpdateTaskRequest,
} from "@kiln/protocol";
import { z } from "zod";
import { accepted, ok, type ParamSpec, type RouteSpec } from "./route-spec.ts";

const ENV = "/api/v1/environments/{id}";
const TASK = "/api/v1/tasks/{id}";
const SANDBOX = "/api/v1/sandboxes/{id}";
const query = (
  name: string,
  description: string,
  schema: Record<string, unknown> = { type: "string" },
): ParamSpec => ({
  name,
  in: "query",
  description,
  schema,
});
const route = (
  method: RouteSpec["method"],
  path: string,
  tag: string,
  summary: string,
  responses: RouteSpec["responses"],
  extra: Partial<RouteSpec> = {},
): RouteSpec => ({ method, path, tag, summary, auth: true, responses, ...extra });

/** Schemas shown as named components. */
export const taskNamedSchemas = { Environment, Task, TaskEventEnvelope, SandboxResource, SandboxStatus };

/** The routes. */
export const taskRouteSpecs: RouteSpec[] = [
  route(
    "get",
    "/api/v1/prompts",
    "threads",
    "The server's saved prompts (start a prompt with /NAME to use one)",
    {
      200: ok(SavedPromptList),
    },
  ),
  route("get", "/api/v1/environment-templates", "environments", "Built-in environment templates", {
    200: ok(EnvironmentTemplateList),
  }),
  route(
    "post",
    "/api/v1/environments",
    "environments",
    "Create an environment (repository, branch, setup script, variables, secrets, network, forge)",
    { 201: ok(Environment, "Created") },
    { body: CreateEnvironmentRequest },
  ),
  route("get", "/api/v1/environments", "environments", "The caller's environments (pinned first)", {
    200: ok(EnvironmentList),
  }),
  route("get", ENV, "environments", "An environment (secret names only, never values)", {
    200: ok(Environment),
  }),
  route(
    "patch",
    ENV,
    "environments",
    "Change an environment (a secret set to null is removed)",
    { 200: ok(Environment) },
    { body: UpdateEnvironmentRequest },
  ),
  route("delete", ENV, "environments", "Delete an environment no task uses", {
    204: { description: "Deleted", schema: null },
  }),
  route(
    "post",
    "/api/v1/tasks",
    "tasks",
    "Create a task: best-of-N attempts run in the background",
    { 201: ok(Task, "Created") },
    { body: CreateTaskRequest },
  ),
  route(
    "get",
    "/api/v1/tasks",
    "tasks",
    "The caller's tasks, newest first",
    { 200: ok(TaskList) },
    {
      params: [
        query("status", "queued | provisioning | running | completed | failed | cancelled"),
        query("environmentId", "Only tasks of this environment"),
        query("archived", "true: archived only; false: not archived only"),
        query("search", "Case-insensitive text in the title or prompt"),
        query("limit", "1–200 (default 50)", { type: "integer", minimum: 1, maximum: 200 }),
        query("cursor", "nextCursor of the previous page"),
      ],
    },
  ),
  route("get", TASK, "tasks", "A task with its prompts, attempts, runs and diffs", { 200: ok(Task) }),
  route("patch", TASK, "tasks", "Rename or archive a task", { 200: ok(Task) }, { body: UpdateTaskRequest }),
  route("post", `${TASK}/cancel`, "tasks", "Cancel a task (running attempts are interrupted)", {
    200: ok(Task),
  }),
  route(
    "post",
    `${TASK}/turns`,
    "tasks",
    "A follow-up prompt, answered by one attempt in its workspace",
    { 202: accepted(FollowUpAccepted) },
    { body: FollowUpRequest },
  ),
  route("get", `${TASK}/attempts/{attempt}/diff`, "tasks", "An attempt's latest diff (git apply-able)", {
    200: { description: "The diff", schema: z.string(), contentType: "text/x-diff" },
  }),
  route(
    "post",
    `${TASK}/attempts/{attempt}/publish`,
    "tasks",
    "Push the attempt as a branch and open or update its pull request",
    { 200: ok(PublishedAttempt) },
    { body: PublishRequest },
  ),
  route("get", `${TASK}/sandbox`, "tasks", "The sandbox of the task's first attempt", {
    200: ok(SandboxResource),
  }),
  route(
    "get",
    `${TASK}/events`,
    "tasks",
    "Task events as Server-Sent Events (resume with Last-Event-ID or ?after=)",
    {
      200: {
        description: "An SSE stream of TaskEventEnvelope",
        schema: TaskEventEnvelope,
        contentType: "text/event-stream",
      },
    },
    { params: [query("after", "Send events after this seq", { type: "integer", minimum: 0 })] },
  ),
  route("get", SANDBOX, "sandboxes", "A sandbox (owner or its capability token)", {
    200: ok(SandboxResource),
  }),
  route("get", `${SANDBOX}/status`, "sandboxes", "State, uptime, CPU, memory, disk", {
    200: ok(SandboxStatus),
  }),
  route(
    "post",
    `${SANDBOX}/exec`,
    "sandboxes",
    "Run a command (Accept: application/x-ndjson streams stdout/stderr chunks, then exit)",
    { 200: ok(SandboxExecResult) },
    { body: SandboxExecRequest },
  ),
  route(
    "get",
    `${SANDBOX}/files`,
    "sandboxes",
    "List a directory or read a file of the workspace",
    { 200: ok(z.union([SandboxDirectoryListing, SandboxFileContent])) },
    { params: [query("path", "Relative to the workspace root")] },
  ),
  route(
    "put",
    `${SANDBOX}/files`,
    "sandboxes",
    "Write a file of the workspace (JSON body, or the raw bytes)",
    { 200: ok(SandboxFileEntry) },
    { body: SandboxWriteFileRequest, params: [query("path", "Relative to the workspace root")] },
  ),
  route("post", `${SANDBOX}/tokens`, "sandboxes", "A capability token for this sandbox only (shown once)", {
    201: ok(SandboxTokenResponse, "Created"),
  }),
  route("post", `${SANDBOX}/stop`, "sandboxes", "Stop the sandbox's processes (the workspace stays)", {
    200: ok(SandboxResource),
  }),
  route(
    "get",
    `${SANDBOX}/terminal`,
    "sandboxes",
    "WebSocket: an interactive shell (PTY) in the sandbox; ?token=kiln_sbx_… for browsers",
    {
      101: {
        description: "Switching protocols; messages are TerminalServerMessage",
        schema: TerminalServerMessage,
      },
    },
  ),
];
