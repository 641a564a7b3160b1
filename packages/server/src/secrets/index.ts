export { decodeKey, type LoadSecretKeyOptions, loadSecretKey, SECRET_KEY_FILE } from "./load-secret-key.ts";
export { createSecretBox, type SealedSecret, type SecretBox } from "./secret-box.ts";
export { PutSecretRequest, type SecretRoutesDeps, secretRoutes } from "./secret-routes.ts";
export {
  createUserSecrets,
  SecretName,
  SecretSummary,
  SecretValue,
  type UserSecrets,
} from "./user-secrets.ts";
