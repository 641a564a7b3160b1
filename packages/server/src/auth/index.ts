export { ACCESS_TOKEN_TTL_MS, type AccessTokenClaims } from "./access-token.ts";
export {
  type AppEnv,
  AUTH_SCOPES,
  type AuthRequestContext,
  type AuthScope,
  type AuthUser,
} from "./app-env.ts";
export { appendAudit, audit } from "./audit.ts";
export {
  CSRF_HEADER,
  REFRESH_TOKEN_TTL_MS,
  SESSION_COOKIE,
  SESSION_TTL_MS,
  SETUP_TOKEN_TTL_MS,
} from "./auth-core.ts";
export type { BootstrapEnv, BootstrapResult } from "./bootstrap.ts";
export { type ClientIp, socketClientIp } from "./client-ip.ts";
export { type Auth, type AuthDeps, createAuth } from "./create-auth.ts";
export {
  type ErrorBody,
  errorBody,
  errorResponse,
  handleHttpError,
  respondToKilnErrors,
} from "./http-error.ts";
export { MAX_BODY_BYTES, parseParam, parseWith, readJsonBody } from "./json-body.ts";
export {
  DEFAULT_SCRYPT_PARAMS,
  hashPassword,
  NewPassword,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  type ScryptParams,
  verifyPassword,
} from "./password.ts";
export {
  type AuthLimits,
  DEFAULT_AUTH_LIMITS,
  hitRateLimit,
  type RateLimitRule,
  rateLimitedError,
} from "./rate-limit.ts";
export { requireScope } from "./require-user.ts";
