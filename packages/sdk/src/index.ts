// @kiln/sdk: Kiln's typed client. Browser-safe (fetch, AbortController, TextDecoder only).
export type {
  ApprovalResponded,
  CreateEnvironmentInput,
  CreateTaskInput,
  FollowUpAccepted,
  PublishAttemptRequest,
  SandboxDirectoryListing,
  SandboxFileContent,
  SandboxFileEntry,
  ThreadItemEntry,
  ThreadPage,
  ThreadUsageReport,
  TurnAccepted,
  TurnSignalAccepted,
  UpdateEnvironmentInput,
  UpdateTaskRequest,
  UsageReport,
} from "./api-types.ts";
export type { ApprovalsApi } from "./approvals-api.ts";
export type { ReconnectOptions } from "./backoff.ts";
export { BrowserSession, type BrowserSessionOptions, type SessionUser } from "./browser-session.ts";
export type { EnvironmentsApi } from "./environments-api.ts";
export { KilnApiError, KilnLoginRequiredError, KilnNetworkError, KilnResponseError } from "./errors.ts";
export { type ExtractedAttempt, extract } from "./extract.ts";
export type { EventStreamOptions } from "./follow-event-stream.ts";
export {
  type AccessTokenSource,
  type CallOptions,
  CSRF_HEADER,
  type FetchCredentials,
  type Query,
  type RequestOptions,
  type SessionCredentials,
} from "./http-client.ts";
export { KilnClient, type KilnClientOptions } from "./kiln-client.ts";
export type { SandboxesApi, SandboxFilesApi } from "./sandboxes-api.ts";
export { readSse, type SseItem, SseParser } from "./sse-parser.ts";
export {
  type CreateAndWaitOptions,
  isTerminalStatus,
  type PollOptions,
  type TaskListOptions,
  type TasksApi,
  TERMINAL_TASK_STATUSES,
} from "./tasks-api.ts";
export { foldTurn, type RunOptions, type RunResult, Thread } from "./thread.ts";
export type { ThreadListOptions, ThreadsApi } from "./threads-api.ts";
export { type LoginResult, TokenManager, type TokenManagerOptions } from "./token-manager.ts";
export {
  localStorageStorage,
  memoryStorage,
  type TokenStorage,
  type Tokens,
  type WebStorageLike,
} from "./token-storage.ts";
export type { UsageApi } from "./usage-api.ts";
