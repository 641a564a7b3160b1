// The HTTP shapes of auth, users and tokens.
import { z } from "zod";

/** What an authenticated caller may do. `admin` counts only for users whose role is `admin`. */
export const AUTH_SCOPES = ["read", "write", "admin"] as const;
/** One of {@link AUTH_SCOPES}. */
export type AuthScope = (typeof AUTH_SCOPES)[number];

/** The shortest password Kiln accepts. */
export const PASSWORD_MIN_LENGTH = 8;
/** The longest (scrypt takes any length; this bounds the work a request can ask for). */
export const PASSWORD_MAX_LENGTH = 1024;

/** A new password, with the length rules users are told about. */
export const NewPassword = z
  .string()
  .min(PASSWORD_MIN_LENGTH, `the password must be at least ${PASSWORD_MIN_LENGTH} characters`)
  .max(PASSWORD_MAX_LENGTH, `the password must be at most ${PASSWORD_MAX_LENGTH} characters`);

/** A username: 1–64 letters, digits, `.`, `_`, `-`, `@`, starting with a letter or digit. */
export const Username = z
  .string()
  .regex(/^[\p{L}\p{N}][\p{L}\p{N}._@-]{0,63}$/u, "use 1–64 letters, digits, '.', '_', '-' or '@'");

/** A user as the API shows it. */
export const PublicUser = z.object({
  id: z.string(),
  username: z.string(),
  role: z.enum(["admin", "user"]),
  /** Unix ms. */
  createdAt: z.number(),
  updatedAt: z.number(),
  /** Set when an admin disabled the account. */
  disabledAt: z.number().optional(),
});
export type PublicUser = z.infer<typeof PublicUser>;

/** `POST /auth/login` and the password grant of `POST /auth/token`. */
export const LoginRequest = z.strictObject({
  username: z.string().min(1).max(256),
  password: z.string().min(1).max(PASSWORD_MAX_LENGTH),
});

/** `POST /auth/token` with a refresh token. */
export const RefreshGrantRequest = z.strictObject({ refresh_token: z.string().min(1).max(512) });

/** `POST /auth/refresh`. */
export const RefreshRequest = z.strictObject({ refreshToken: z.string().min(1).max(512) });

/** `POST /auth/setup`: the token of the setup link and the admin's new password. */
export const SetupRequest = z.strictObject({ token: z.string().min(1).max(512), password: NewPassword });

/** `POST /auth/password`: a signed-in user changes their own password. */
export const ChangePasswordRequest = z.strictObject({
  currentPassword: z.string().min(1).max(PASSWORD_MAX_LENGTH),
  newPassword: NewPassword,
});

/** An access + refresh token pair (camelCase: `/auth/login`, `/auth/refresh`). */
export const TokenPair = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
  /** When the access token expires, Unix ms. */
  expiresAt: z.number(),
});
export type TokenPair = z.infer<typeof TokenPair>;

/** `POST /auth/token` (OAuth-style). */
export const OAuthTokenResponse = z.object({
  access_token: z.string(),
  refresh_token: z.string(),
  /** Seconds. */
  expires_in: z.number(),
  token_type: z.literal("Bearer"),
});
export type OAuthTokenResponse = z.infer<typeof OAuthTokenResponse>;

/** `POST /auth/login` and `POST /auth/setup`: the session cookie is set too. */
export const LoginResponse = TokenPair.extend({
  user: PublicUser,
  /** Send as `x-kiln-csrf` with every unsafe request made with the session cookie. */
  csrfToken: z.string(),
});
export type LoginResponse = z.infer<typeof LoginResponse>;

/** `GET /auth/me`. */
export const MeResponse = z.object({
  user: PublicUser.extend({
    via: z.enum(["session", "api_token", "access_token"]),
    scopes: z.array(z.string()),
  }),
  /** Only for a browser session: its CSRF token (e.g. after a page reload). */
  csrfToken: z.string().optional(),
});
export type MeResponse = z.infer<typeof MeResponse>;

/** `POST /users` (admin). */
export const CreateUserRequest = z.strictObject({
  username: Username,
  password: NewPassword,
  role: z.enum(["admin", "user"]).default("user"),
});

/** `PATCH /users/{id}` (admin): disable the account and/or set a new password. */
export const UpdateUserRequest = z
  .strictObject({ disabled: z.literal(true).optional(), password: NewPassword.optional() })
  .refine((b) => b.disabled !== undefined || b.password !== undefined, {
    message: "send `disabled: true` or a new `password`",
  });

/** An id in a path (`/users/{id}`, `/tokens/{id}`). */
export const PathId = z.string().regex(/^[a-z]+_[A-Za-z0-9]{1,64}$/, "is not a Kiln id");

/** `POST /tokens`. */
export const CreateApiTokenRequest = z.strictObject({
  name: z.string().trim().min(1).max(100),
  scopes: z
    .array(z.enum(AUTH_SCOPES))
    .min(1)
    .max(AUTH_SCOPES.length)
    .default(["read", "write"])
    .transform((s) => [...new Set(s)]),
  expiresInDays: z.number().int().min(1).max(3650).optional(),
});

/** A personal API token as listed (never the token itself). */
export const ApiTokenSummary = z.object({
  id: z.string(),
  name: z.string(),
  scopes: z.array(z.string()),
  createdAt: z.number(),
  lastUsedAt: z.number().optional(),
  expiresAt: z.number().optional(),
  revokedAt: z.number().optional(),
});
export type ApiTokenSummary = z.infer<typeof ApiTokenSummary>;

/** `POST /tokens`: the token, shown this once. */
export const CreatedApiToken = ApiTokenSummary.extend({ token: z.string() });
export type CreatedApiToken = z.infer<typeof CreatedApiToken>;
