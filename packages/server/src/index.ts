export { type AppEnv, type Auth, type AuthUser, createAuth } from "./auth/index.ts";
export { createServer, type KilnServer, type ServerDeps } from "./create-server.ts";
export { EventHub } from "./events/event-hub.ts";
export {
  createStoreRelay,
  type LiveEventSource,
  type LiveEventSourceFactory,
  type StoreRelay,
} from "./events/store-relay.ts";
export {
  createKilnFactory,
  type KilnFactory,
  type KilnFactoryOptions,
  providerKeysOf,
  USER_PROVIDER_KEYS,
} from "./executor/kiln-factory.ts";
export {
  type DurableTurnClient,
  type DurableTurnSubmission,
  RestateTurnExecutor,
  type RestateTurnExecutorDeps,
} from "./executor/restate-executor.ts";
export {
  InProcessTurnExecutor,
  type ThreadExtras,
  type TurnExecutor,
} from "./executor/turn-executor.ts";
export { type Listening, listen } from "./http/listen.ts";
export { openApiDocument } from "./openapi/openapi-document.ts";
export {
  createSecretBox,
  createUserSecrets,
  decodeKey,
  loadSecretKey,
  type UserSecrets,
} from "./secrets/index.ts";
