// The WHAM-compatible API (spec/wham-api.md), served under both of its prefixes.
import {
  SandboxDirectoryListing,
  SandboxExecResult,
  SandboxFileContent,
  SandboxFileEntry,
  SandboxResource,
  SandboxStatus,
  SandboxTokenResponse,
  SandboxWriteFileRequest,
  TerminalServerMessage,
  WhamCreateTaskRequest,
  WhamCreateTaskResponse,
  WhamEnvironmentList,
  WhamFollowUpRequest,
  WhamFollowUpResponse,
  WhamSandboxExecRequest,
  WhamSandboxResponse,
  WhamSandboxTemplateList,
  WhamSiblingTurns,
  WhamTaskDetails,
  WhamTaskEnvironmentRequest,
  WhamTaskList,
  WhamTurnList,
  WhamUsage,
} from "@kiln/protocol";
import { z } from "zod";
import { ok, type ParamSpec, type RouteSpec } from "./route-spec.ts";

const query = (name: string, description: string): ParamSpec => ({
  name,
  in: "query",
  description,
  schema: { type: "string" },
});

type Tail = Omit<RouteSpec, "path" | "tag" | "auth"> & { tail: string };

const tails: Tail[] = [
  {
    method: "get",
    tail: "/environments",
    summary: "Environments (a bare array)",
    responses: { 200: ok(WhamEnvironmentList) },
  },
  {
    method: "get",
    tail: "/environments/by-repo/{provider}/{owner}/{repo}",
    summary: "Environments of one repository (a bare array)",
    responses: { 200: ok(WhamEnvironmentList) },
  },
  {
    method: "post",
    tail: "/tasks",
    summary: "Create a task (best_of_n attempts run in the background)",
    body: WhamCreateTaskRequest,
    responses: { 200: ok(WhamCreateTaskResponse) },
  },
  {
    method: "get",
    tail: "/tasks/list",
    summary: "Tasks, newest first",
    params: [
      query("limit", "Page size"),
      query("task_filter", "current | archived | all"),
      query("cursor", "cursor of the previous page"),
      query("environment_id", "Only this environment's tasks"),
    ],
    responses: { 200: ok(WhamTaskList) },
  },
  {
    method: "get",
    tail: "/tasks/{id}",
    summary: "A task with its current turns",
    responses: { 200: ok(WhamTaskDetails) },
  },
  {
    method: "get",
    tail: "/tasks/{id}/turns",
    summary: "All turns of a task, in order",
    responses: { 200: ok(WhamTurnList) },
  },
  {
    method: "post",
    tail: "/tasks/{id}/turns",
    summary: "A follow-up turn (continues in the same workspace)",
    body: WhamFollowUpRequest,
    responses: { 200: ok(WhamFollowUpResponse) },
  },
  {
    method: "get",
    tail: "/tasks/{id}/turns/{turnId}/sibling_turns",
    summary: "The other attempts' answers to the same prompt",
    responses: { 200: ok(WhamSiblingTurns) },
  },
  {
    method: "post",
    tail: "/tasks/{id}/environment",
    summary: "The task's sandbox",
    body: WhamTaskEnvironmentRequest,
    responses: { 200: ok(WhamSandboxResponse) },
  },
  {
    method: "get",
    tail: "/usage",
    summary: "Token totals and rate-limit windows",
    responses: { 200: ok(WhamUsage) },
  },
  {
    method: "get",
    tail: "/sandbox/templates",
    summary: "Environment templates",
    responses: { 200: ok(WhamSandboxTemplateList) },
  },
  { method: "get", tail: "/sandbox/{id}", summary: "A sandbox", responses: { 200: ok(SandboxResource) } },
  {
    method: "get",
    tail: "/sandbox/{id}/status",
    summary: "State, uptime, CPU, memory, disk",
    responses: { 200: ok(SandboxStatus) },
  },
  {
    method: "post",
    tail: "/sandbox/{id}/exec",
    summary: "Run a command in the sandbox",
    body: WhamSandboxExecRequest,
    responses: { 200: ok(SandboxExecResult) },
  },
  {
    method: "get",
    tail: "/sandbox/{id}/files",
    summary: "List a directory or read a file",
    params: [query("path", "Relative to the workspace root")],
    responses: { 200: ok(z.union([SandboxDirectoryListing, SandboxFileContent])) },
  },
  {
    method: "put",
    tail: "/sandbox/{id}/files",
    summary: "Write a file",
    body: SandboxWriteFileRequest,
    params: [query("path", "Relative to the workspace root")],
    responses: { 200: ok(SandboxFileEntry) },
  },
  {
    method: "post",
    tail: "/sandbox/{id}/tokens",
    summary: "A capability token for this sandbox",
    responses: { 201: ok(SandboxTokenResponse, "Created") },
  },
  {
    method: "post",
    tail: "/sandbox/{id}/stop",
    summary: "Stop the sandbox's processes",
    responses: { 200: ok(SandboxResource) },
  },
  {
    method: "get",
    tail: "/sandbox/{id}/terminal",
    summary: "WebSocket: an interactive shell in the sandbox",
    responses: {
      101: {
        description: "Switching protocols; messages are TerminalServerMessage",
        schema: TerminalServerMessage,
      },
    },
  },
];

/** The WHAM routes under `prefixes`. */
export function whamRouteSpecs(prefixes: readonly string[]): RouteSpec[] {
  return prefixes.flatMap((prefix) =>
    tails.map(({ tail, ...spec }) => ({ ...spec, path: `${prefix}${tail}`, tag: "wham", auth: true })),
  );
}
