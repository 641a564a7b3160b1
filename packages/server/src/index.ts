export { type AppEnv, type Auth, type AuthUser, createAuth } from "./auth/index.ts";
export { createServer, type KilnServer, type ServerDeps } from "./create-server.ts";
export { EventHub } from "./events/event-hub.ts";
export {
  createKilnFactory,
  type KilnFactory,
  type KilnFactoryOptions,
  providerKeysOf,
  USER_PROVIDER_KEYS,
} from "./executor/kiln-factory.ts";
export { TurnExecutor } from "./executor/turn-executor.ts";
export { type Listening, listen } from "./http/listen.ts";
export { openApiDocument } from "./openapi/openapi-document.ts";
export { createSecretBox, createUserSecrets, loadSecretKey, type UserSecrets } from "./secrets/index.ts";
