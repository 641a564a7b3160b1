export { interruptTurn, submitTurn } from "./durable-client.ts";
export {
  type DurableWorker,
  type DurableWorkerOptions,
  registerDeployment,
  startDurableWorker,
} from "./durable-worker.ts";
export { installPromisePolyfill } from "./promise-polyfill.ts";
export { createRestateJournal, isCancelled } from "./restate-journal.ts";
export {
  freePort,
  type RestateServer,
  type RestateServerOptions,
  restateServerBinary,
  startRestateServer,
} from "./restate-server.ts";
export { createStoreEventSink, type EventSink } from "./store-event-sink.ts";
export {
  createThreadObject,
  DurableTurnRequest,
  type DurableTurnResult,
  THREAD_OBJECT,
  type ThreadObjectDeps,
} from "./thread-object.ts";
