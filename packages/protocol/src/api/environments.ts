// Environments (templates a task runs in) and sandboxes, as the native API shows them. A request
// body is strict (an unknown field is a 400 that names it).
import { z } from "zod";
import { SecretName, SecretValue } from "./secrets.ts";

/** An environment's name. */
export const EnvironmentName = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(/^[^\p{Cc}]+$/u, "must not contain control characters");

/** A git branch name (what `git check-ref-format --branch` would accept, roughly). */
export const BranchName = z
  .string()
  .min(1)
  .max(200)
  .regex(/^(?!-)(?!.*\.\.)(?!.*\/\/)(?!.*@\{)[A-Za-z0-9._/-]+(?<![./])$/, "is not a valid git branch name");

/** Network access of the agent phase: none (default) or unrestricted. */
export const NetworkPolicy = z.enum(["off", "on"]);
export type NetworkPolicy = z.infer<typeof NetworkPolicy>;

/** Where a repository is hosted, so that publishing can open a pull (merge) request. */
export const ForgeKind = z.enum(["github", "gitlab"]);
export type ForgeKind = z.infer<typeof ForgeKind>;

/** A forge as configured for an environment (its token is a secret, never shown). */
export const ForgeConfig = z.object({
  kind: ForgeKind,
  /** REST API base, e.g. `https://api.github.com` or `https://gitlab.example.com/api/v4`. */
  apiUrl: z.string().url().max(2000),
  /** `owner/name` (GitHub) or the project path `group/project` (GitLab). */
  repo: z.string().min(3).max(300),
  /** Whether a token is stored (the `FORGE_TOKEN` secret of the environment). */
  hasToken: z.boolean(),
});
export type ForgeConfig = z.infer<typeof ForgeConfig>;

/** The forge part of a create/update request; `token` is write-only. */
export const ForgeInput = z.strictObject({
  kind: ForgeKind,
  apiUrl: z.string().url().max(2000).optional(),
  repo: z.string().min(3).max(300),
  token: SecretValue.optional(),
});
export type ForgeInput = z.infer<typeof ForgeInput>;

/** Environment variables (names as in a shell). */
export const EnvVars = z.record(
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, "is not a valid environment variable name"),
  z.string().max(32_768),
);

/** An environment as the API shows it. Secret values never appear: only their names. */
export const Environment = z.object({
  id: z.string(),
  name: z.string(),
  /** A git URL or a local path to a git repository on the server. */
  repository: z.string(),
  /** The default branch tasks start from. */
  branch: z.string(),
  setupScript: z.string(),
  env: z.record(z.string(), z.string()),
  secretNames: z.array(z.string()),
  network: NetworkPolicy,
  /** The built-in template it was made from, if any. */
  template: z.string().optional(),
  /** How long the setup script may run. */
  setupTimeoutMs: z.number(),
  pinned: z.boolean(),
  forge: ForgeConfig.optional(),
  taskCount: z.number(),
  createdAt: z.number(),
  updatedAt: z.number(),
});
export type Environment = z.infer<typeof Environment>;

/** `POST /environments`. */
export const CreateEnvironmentRequest = z.strictObject({
  name: EnvironmentName,
  repository: z.string().min(1).max(4096),
  branch: BranchName.optional(),
  setupScript: z
    .string()
    .max(256 * 1024)
    .optional(),
  env: EnvVars.optional(),
  /** Available to the setup script only (as environment variables), removed before the agent runs. */
  secrets: z.record(SecretName, SecretValue).optional(),
  network: NetworkPolicy.optional(),
  /** A built-in template whose setup script (and network policy) is the default. */
  template: z.string().min(1).max(64).optional(),
  setupTimeoutMs: z
    .number()
    .int()
    .min(1000)
    .max(6 * 3600_000)
    .optional(),
  pinned: z.boolean().optional(),
  forge: ForgeInput.optional(),
});
export type CreateEnvironmentRequest = z.infer<typeof CreateEnvironmentRequest>;

/** `PATCH /environments/{id}`: fields to change; a secret set to `null` is removed. */
export const UpdateEnvironmentRequest = z.strictObject({
  name: EnvironmentName.optional(),
  repository: z.string().min(1).max(4096).optional(),
  branch: BranchName.optional(),
  setupScript: z
    .string()
    .max(256 * 1024)
    .optional(),
  env: EnvVars.optional(),
  secrets: z.record(SecretName, SecretValue.nullable()).optional(),
  network: NetworkPolicy.optional(),
  setupTimeoutMs: z
    .number()
    .int()
    .min(1000)
    .max(6 * 3600_000)
    .optional(),
  pinned: z.boolean().optional(),
  /** `null` removes the forge (and its token). */
  forge: ForgeInput.nullable().optional(),
});
export type UpdateEnvironmentRequest = z.infer<typeof UpdateEnvironmentRequest>;

/** `GET /environments`. */
export const EnvironmentList = z.object({ environments: z.array(Environment) });
export type EnvironmentList = z.infer<typeof EnvironmentList>;

/** A built-in environment template. */
export const EnvironmentTemplate = z.object({
  name: z.string(),
  label: z.string(),
  description: z.string(),
  setupScript: z.string(),
  network: NetworkPolicy,
});
export type EnvironmentTemplate = z.infer<typeof EnvironmentTemplate>;

/** `GET /environment-templates`. */
export const EnvironmentTemplateList = z.object({ templates: z.array(EnvironmentTemplate) });
export type EnvironmentTemplateList = z.infer<typeof EnvironmentTemplateList>;

/** Whether a sandbox's processes may run now. */
export const SandboxState = z.enum(["running", "stopped"]);
export type SandboxState = z.infer<typeof SandboxState>;

/** A sandbox: a workspace plus the policy its commands run under. */
export const SandboxResource = z.object({
  id: z.string(),
  taskId: z.string().optional(),
  attemptId: z.string().optional(),
  threadId: z.string().optional(),
  state: SandboxState,
  /** The workspace directory on the server. */
  workspace: z.string(),
  network: NetworkPolicy,
  createdAt: z.number(),
  /** When it last ran anything (idle sandboxes stop after a timeout). */
  lastActiveAt: z.number(),
});
export type SandboxResource = z.infer<typeof SandboxResource>;

/** `GET /sandboxes/{id}/status`. */
export const SandboxStatus = z.object({
  state: SandboxState,
  /** Seconds since it last started (0 when stopped). */
  uptime_s: z.number(),
  cpu_percent: z.number(),
  memory_bytes: z.number(),
  disk_bytes: z.number(),
  /** Processes running in it now. */
  processes: z.number(),
  limits: z.object({
    memoryBytes: z.number().optional(),
    pids: z.number().optional(),
    cpuPercent: z.number().optional(),
    /** How the limits are enforced: cgroup v2, setrlimit, or not at all. */
    enforcedBy: z.enum(["cgroup", "rlimit", "none"]),
  }),
});
export type SandboxStatus = z.infer<typeof SandboxStatus>;

/** `POST /sandboxes/{id}/exec`. */
export const SandboxExecRequest = z.object({
  command: z.union([
    z
      .string()
      .min(1)
      .max(64 * 1024),
    z
      .array(z.string().max(64 * 1024))
      .min(1)
      .max(1000),
  ]),
  /** Relative to the workspace, or absolute inside it. */
  cwd: z.string().max(4096).optional(),
  timeout_ms: z.number().int().min(1).max(3600_000).optional(),
  env: EnvVars.optional(),
});
export type SandboxExecRequest = z.infer<typeof SandboxExecRequest>;

/** The answer of an exec that was not streamed. */
export const SandboxExecResult = z.object({
  exit_code: z.number().nullable(),
  stdout: z.string(),
  stderr: z.string(),
  duration_ms: z.number(),
  /** Set when the command was killed (timeout, or a signal). */
  signal: z.string().nullable().optional(),
  timed_out: z.boolean().optional(),
});
export type SandboxExecResult = z.infer<typeof SandboxExecResult>;

/** One line of a streamed exec (`Accept: application/x-ndjson`). */
export const SandboxExecChunk = z.discriminatedUnion("type", [
  z.object({ type: z.literal("stdout"), data: z.string() }),
  z.object({ type: z.literal("stderr"), data: z.string() }),
  z.object({
    type: z.literal("exit"),
    exit_code: z.number().nullable(),
    signal: z.string().nullable(),
    duration_ms: z.number(),
    timed_out: z.boolean(),
  }),
]);
export type SandboxExecChunk = z.infer<typeof SandboxExecChunk>;

/** An entry of a directory listing. */
export const SandboxFileEntry = z.object({
  name: z.string(),
  /** Relative to the workspace root, `/`-separated. */
  path: z.string(),
  type: z.enum(["file", "directory", "symlink", "other"]),
  size: z.number(),
  modifiedAt: z.number(),
});
export type SandboxFileEntry = z.infer<typeof SandboxFileEntry>;

/** `GET /sandboxes/{id}/files?path=` on a directory. */
export const SandboxDirectoryListing = z.object({
  path: z.string(),
  type: z.literal("directory"),
  entries: z.array(SandboxFileEntry),
});
export type SandboxDirectoryListing = z.infer<typeof SandboxDirectoryListing>;

/** `GET /sandboxes/{id}/files?path=` on a file (text as UTF-8, otherwise base64). */
export const SandboxFileContent = z.object({
  path: z.string(),
  type: z.literal("file"),
  size: z.number(),
  encoding: z.enum(["utf-8", "base64"]),
  content: z.string(),
});
export type SandboxFileContent = z.infer<typeof SandboxFileContent>;

/** `PUT /sandboxes/{id}/files?path=`, JSON form (a raw body is written as is). */
export const SandboxWriteFileRequest = z.strictObject({
  content: z.string().max(16 * 1024 * 1024),
  encoding: z.enum(["utf-8", "base64"]).default("utf-8"),
});
export type SandboxWriteFileRequest = z.infer<typeof SandboxWriteFileRequest>;

/** `POST /sandboxes/{id}/tokens`: a capability token for this sandbox only, shown once. */
export const SandboxTokenResponse = z.object({
  token: z.string(),
  sandboxId: z.string(),
  expiresAt: z.number(),
});
export type SandboxTokenResponse = z.infer<typeof SandboxTokenResponse>;

/** Messages of the terminal WebSocket, client → server (text frames are also taken as input). */
export const TerminalClientMessage = z.discriminatedUnion("type", [
  z.object({ type: z.literal("input"), data: z.string().max(1024 * 1024) }),
  z.object({
    type: z.literal("resize"),
    cols: z.number().int().min(1).max(1000),
    rows: z.number().int().min(1).max(1000),
  }),
]);
export type TerminalClientMessage = z.infer<typeof TerminalClientMessage>;

/** Messages of the terminal WebSocket, server → client. */
export const TerminalServerMessage = z.discriminatedUnion("type", [
  z.object({ type: z.literal("output"), data: z.string() }),
  z.object({ type: z.literal("exit"), exitCode: z.number().nullable(), signal: z.string().nullable() }),
  z.object({ type: z.literal("error"), error: z.object({ code: z.string(), message: z.string() }) }),
]);
export type TerminalServerMessage = z.infer<typeof TerminalServerMessage>;
