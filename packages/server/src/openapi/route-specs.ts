// Every route of the API with its request and response schemas: the source of the OpenAPI document
// (openapi-document.ts). A route added to the app belongs here too; the drift test keeps the
// committed packages/server/openapi.json equal to what this list generates.
import {
  ApprovalItem,
  ErrorInfo,
  EventEnvelope,
  InputPart,
  ThreadEvent,
  ThreadInfo,
  ThreadItem,
  Usage,
  TurnResource,
} from "@kiln/protocol";
import { z } from "zod";
import {
  ApprovalResponded,
  HealthStatus,
  PendingApprovalList,
  RespondApprovalRequest,
  ThreadUsageReport,
  UsageReport,
  WsClientMessage,
  WsServerMessage,
} from "../api/approval-schemas.ts";
import {
  CreateThreadRequest,
  ForkThreadRequest,
  RollbackThreadRequest,
  StartTurnRequest,
  SteerRequest,
  ThreadItemList,
  ThreadList,
  ThreadResource,
  TurnAccepted,
  TurnResource,
  TurnSignalAccepted,
  UpdateThreadRequest,
} from "../api/thread-schemas.ts";
import {
  CreateApiTokenRequest,
  CreatedApiToken,
  CreateUserRequest,
  LoginRequest,
  LoginResponse,
  MeResponse,
  PublicUser,
  RefreshRequest,
  TokenPair,
} from "../auth/index.ts";
import { PutSecretRequest, SecretSummary } from "../secrets/index.ts";

/** A query or header parameter. */
export interface ParamSpec {
  name: string;
  in: "query" | "header";
  description: string;
  schema: Record<string, unknown>;
}

/** One route. */
export interface RouteSpec {
  method: "get" | "post" | "put" | "patch" | "delete";
  /** OpenAPI path (`{id}` parameters). */
  path: string;
  summary: string;
  tag: string;
  /** Needs a signed-in caller (bearer token or session cookie). */
  auth: boolean;
  body?: z.ZodType;
  params?: ParamSpec[];
  /** Status → schema (`null`: no body); `contentType` defaults to JSON. */
  responses: Record<number, { description: string; schema: z.ZodType | null; contentType?: string }>;
}

/** Schemas shown as named components. */
export const namedSchemas: Record<string, z.ZodType> = {
  ErrorInfo,
  EventEnvelope,
  ThreadEvent,
  ThreadItem,
  ThreadInfo,
  ApprovalItem,
  InputPart,
  Usage,
  TurnResource,
  HealthStatus,
  LoginRequest,
  LoginResponse,
  RefreshRequest,
  TokenPair,
  MeResponse,
  CreateUserRequest,
  PublicUser,
  CreateApiTokenRequest,
  CreatedApiToken,
  PutSecretRequest,
  SecretSummary,
  CreateThreadRequest,
  UpdateThreadRequest,
  ForkThreadRequest,
  RollbackThreadRequest,
  ThreadResource,
  ThreadList,
  ThreadItemList,
  StartTurnRequest,
  SteerRequest,
  TurnAccepted,
  TurnSignalAccepted,
  PendingApprovalList,
  RespondApprovalRequest,
  ApprovalResponded,
  UsageReport,
  ThreadUsageReport,
  WsClientMessage,
  WsServerMessage,
};

const seq = { type: "integer", minimum: 0 };
const THREAD = "/api/v1/threads/{id}";
const ok = (schema: z.ZodType, description = "OK") => ({ description, schema });
const accepted = (schema: z.ZodType) => ({ description: "Accepted", schema });

/** The routes, in document order. */
export const routeSpecs: RouteSpec[] = [
  {
    method: "get",
    path: "/healthz",
    summary: "The process answers",
    tag: "ops",
    auth: false,
    responses: { 200: ok(HealthStatus) },
  },
  {
    method: "get",
    path: "/readyz",
    summary: "The store answers",
    tag: "ops",
    auth: false,
    responses: {
      200: ok(HealthStatus),
      503: { description: "The store does not answer", schema: HealthStatus },
    },
  },
  {
    method: "get",
    path: "/metrics",
    summary: "Prometheus metrics",
    tag: "ops",
    auth: false,
    responses: {
      200: { description: "Prometheus text format", schema: z.string(), contentType: "text/plain" },
    },
  },
  {
    method: "post",
    path: "/api/v1/auth/login",
    summary: "Sign in",
    tag: "auth",
    auth: false,
    body: LoginRequest,
    responses: { 200: ok(LoginResponse) },
  },
  {
    method: "post",
    path: "/api/v1/auth/refresh",
    summary: "Exchange a refresh token",
    tag: "auth",
    auth: false,
    body: RefreshRequest,
    responses: { 200: ok(TokenPair) },
  },
  {
    method: "get",
    path: "/api/v1/auth/me",
    summary: "The caller",
    tag: "auth",
    auth: true,
    responses: { 200: ok(MeResponse) },
  },
  {
    method: "post",
    path: "/api/v1/users",
    summary: "Create a user (admin)",
    tag: "auth",
    auth: true,
    body: CreateUserRequest,
    responses: { 201: ok(z.object({ user: PublicUser }), "Created") },
  },
  {
    method: "post",
    path: "/api/v1/tokens",
    summary: "Create a personal API token (shown once)",
    tag: "auth",
    auth: true,
    body: CreateApiTokenRequest,
    responses: { 201: ok(CreatedApiToken, "Created") },
  },
  {
    method: "get",
    path: "/api/v1/secrets",
    summary: "The caller's secrets (names only)",
    tag: "secrets",
    auth: true,
    responses: { 200: ok(z.object({ secrets: z.array(SecretSummary) })) },
  },
  {
    method: "put",
    path: "/api/v1/secrets/{name}",
    summary: "Set a secret (e.g. OPENAI_API_KEY)",
    tag: "secrets",
    auth: true,
    body: PutSecretRequest,
    responses: { 200: ok(SecretSummary) },
  },
  {
    method: "delete",
    path: "/api/v1/secrets/{name}",
    summary: "Delete a secret",
    tag: "secrets",
    auth: true,
    responses: { 204: { description: "Deleted", schema: null } },
  },
  {
    method: "post",
    path: "/api/v1/threads",
    summary: "Create a thread (no cwd: a fresh git workspace)",
    tag: "threads",
    auth: true,
    body: CreateThreadRequest,
    responses: { 201: ok(ThreadResource, "Created") },
  },
  {
    method: "get",
    path: "/api/v1/threads",
    summary: "The caller's threads, newest first",
    tag: "threads",
    auth: true,
    params: [
      {
        name: "cursor",
        in: "query",
        description: "nextCursor of the previous page",
        schema: { type: "string" },
      },
      {
        name: "limit",
        in: "query",
        description: "1–200 (default 50)",
        schema: { type: "integer", minimum: 1, maximum: 200 },
      },
      {
        name: "archived",
        in: "query",
        description: "true: archived only; false: not archived",
        schema: { type: "string", enum: ["true", "false"] },
      },
      {
        name: "status",
        in: "query",
        description: "idle, running or waitingForApproval",
        schema: { type: "string", enum: ["idle", "running", "waitingForApproval"] },
      },
      { name: "q", in: "query", description: "Part of the title", schema: { type: "string" } },
    ],
    responses: { 200: ok(ThreadList) },
  },
  {
    method: "get",
    path: THREAD,
    summary: "A thread with its turns",
    tag: "threads",
    auth: true,
    responses: { 200: ok(ThreadResource) },
  },
  {
    method: "patch",
    path: THREAD,
    summary: "Rename or (un)archive a thread",
    tag: "threads",
    auth: true,
    body: UpdateThreadRequest,
    responses: { 200: ok(ThreadResource) },
  },
  {
    method: "post",
    path: `${THREAD}/fork`,
    summary: "Fork a thread (at a turn)",
    tag: "threads",
    auth: true,
    body: ForkThreadRequest,
    responses: { 201: ok(ThreadResource, "Created") },
  },
  {
    method: "post",
    path: `${THREAD}/rollback`,
    summary: "Drop the last turns (not implemented yet: 501)",
    tag: "threads",
    auth: true,
    body: RollbackThreadRequest,
    responses: { 501: { description: "Not implemented", schema: z.object({ error: ErrorInfo }) } },
  },
  {
    method: "get",
    path: `${THREAD}/items`,
    summary: "The thread's completed items",
    tag: "threads",
    auth: true,
    responses: { 200: ok(ThreadItemList) },
  },
  {
    method: "get",
    path: `${THREAD}/usage`,
    summary: "The thread's usage, in all and per turn",
    tag: "usage",
    auth: true,
    responses: { 200: ok(ThreadUsageReport) },
  },
  {
    method: "post",
    path: `${THREAD}/turns`,
    summary: "Start a turn (409 while one runs)",
    tag: "turns",
    auth: true,
    body: StartTurnRequest,
    responses: { 202: accepted(TurnAccepted) },
  },
  {
    method: "post",
    path: `${THREAD}/steer`,
    summary: "Add input to the running turn",
    tag: "turns",
    auth: true,
    body: SteerRequest,
    responses: { 202: accepted(TurnSignalAccepted) },
  },
  {
    method: "post",
    path: `${THREAD}/interrupt`,
    summary: "Interrupt the running turn",
    tag: "turns",
    auth: true,
    responses: { 202: accepted(TurnSignalAccepted) },
  },
  {
    method: "get",
    path: `${THREAD}/events`,
    summary: "The thread's events as SSE (id: seq, event: type, data: EventEnvelope)",
    tag: "events",
    auth: true,
    params: [
      { name: "after", in: "query", description: "Send events with seq > after", schema: seq },
      {
        name: "Last-Event-ID",
        in: "header",
        description: "Resume after this seq (wins over after)",
        schema: seq,
      },
    ],
    responses: {
      200: {
        description: "An endless event stream",
        schema: EventEnvelope,
        contentType: "text/event-stream",
      },
    },
  },
  {
    method: "get",
    path: "/api/v1/ws",
    summary:
      "WebSocket: send WsClientMessage, receive WsServerMessage (envelopes, subscribed, resync, error)",
    tag: "events",
    auth: true,
    responses: { 101: { description: "Switching protocols", schema: null } },
  },
  {
    method: "get",
    path: "/api/v1/approvals",
    summary: "The caller's pending approvals",
    tag: "approvals",
    auth: true,
    responses: { 200: ok(PendingApprovalList) },
  },
  {
    method: "post",
    path: "/api/v1/approvals/{id}",
    summary: "Answer an approval (audited)",
    tag: "approvals",
    auth: true,
    body: RespondApprovalRequest,
    responses: { 200: ok(ApprovalResponded) },
  },
  {
    method: "get",
    path: "/api/v1/usage",
    summary: "The caller's usage per UTC day",
    tag: "usage",
    auth: true,
    params: [
      { name: "from", in: "query", description: "First day, YYYY-MM-DD", schema: { type: "string" } },
      { name: "to", in: "query", description: "Last day, YYYY-MM-DD", schema: { type: "string" } },
    ],
    responses: { 200: ok(UsageReport) },
  },
];
