export { decodeKey, type LoadSecretKeyOptions, loadSecretKey, SECRET_KEY_FILE } from "./load-secret-key.ts";
export { createSecretBox, type SealedSecret, type SecretBox } from "./secret-box.ts";
export { type SecretRoutesDeps, secretRoutes } from "./secret-routes.ts";
export { createUserSecrets, type UserSecrets } from "./user-secrets.ts";
