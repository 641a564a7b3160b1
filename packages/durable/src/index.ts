export { APPROVAL_OBJECT, approvalObject, awaitApproval } from "./approval-object.ts";
export {
  callThreadHandler,
  createDurableClient,
  type DurableClient,
  decideApproval,
  interruptTurn,
  runningInvocation,
  submitTurn,
} from "./durable-client.ts";
export {
  type DurableWorker,
  type DurableWorkerOptions,
  registerDeployment,
  startDurableWorker,
} from "./durable-worker.ts";
export {
  createPgEventNotifier,
  EVENTS_CHANNEL,
  type PgLiveEvents,
  type PgLiveEventsOptions,
  startPgLiveEvents,
} from "./pg-live-events.ts";
export { installPromisePolyfill } from "./promise-polyfill.ts";
export {
  generateRequestIdentity,
  PUBLIC_KEY_PREFIX,
  parseIdentityPublicKey,
  publicKeyFromPrivatePem,
} from "./request-identity.ts";
export { createRestateJournal, isCancelled } from "./restate-journal.ts";
export {
  freePort,
  type RestateServer,
  type RestateServerOptions,
  restateServerBinary,
  startRestateServer,
} from "./restate-server.ts";
export { createStoreEventSink, type EventNotifier, type EventSink } from "./store-event-sink.ts";
export { ReplaceHistoryRequest, SeedHistoryRequest } from "./thread-api.ts";
export {
  createThreadObject,
  DurableTurnRequest,
  type DurableTurnResult,
  THREAD_OBJECT,
  type ThreadObjectDeps,
} from "./thread-object.ts";
export {
  type CheckpointInfo,
  type CheckpointRef,
  createWorkspaceCheckpointer,
  type RestoreInfo,
  type SaveInfo,
  type SkippedEntry,
  type SkipReason,
  type WorkspaceCheckpointer,
  type WorkspaceCheckpointerOptions,
} from "./workspace-checkpoint.ts";
export { createCheckpointSync, type WorkspaceSync } from "./workspace-sync.ts";
