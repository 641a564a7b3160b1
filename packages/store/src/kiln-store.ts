// The store's contract: everything the server keeps, behind one interface with a SQLite and a
// PostgreSQL implementation. Records are in-process types (the HTTP shapes live in @kiln/protocol);
// times are Unix ms; ids are made by the caller. A user's data is read through a `userId`: another
// user's object is `undefined` (or `false` for a mutation), never an error that reveals it exists.
import type {
  AssistantTurn,
  ErrorInfo,
  EventEnvelope,
  ForgeKind,
  InputPart,
  NetworkPolicy,
  PublishedAttempt,
  RolloutLine,
  TaskEvent,
  TaskEventEnvelope,
  ThreadEvent,
  ThreadInfo,
  Usage,
} from "@kiln/protocol";

/** Which database a store runs on. */
export type StoreDialect = "sqlite" | "postgres";

/** What a user may do. */
export type UserRole = "admin" | "user";

/** A Kiln account. */
export interface User {
  id: string;
  /** As given at creation; unique ignoring case. */
  username: string;
  role: UserRole;
  /** The caller's password hash (e.g. scrypt), stored as given. */
  passwordHash: string;
  createdAt: number;
  updatedAt: number;
  /** Set when the account was disabled; a disabled user must not sign in. */
  disabledAt?: number;
}

/** A signed-in browser (the cookie holds the token; the store only sees hashes). */
export interface BrowserSession {
  /** Hash of the random session token. */
  id: string;
  userId: string;
  /** Hash of the session's CSRF token. */
  csrfTokenHash: string;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
}

/** A personal API token as listed to its owner (never with its hash). */
export interface ApiTokenInfo {
  id: string;
  userId: string;
  name: string;
  scopes: string[];
  createdAt: number;
  lastUsedAt?: number;
  expiresAt?: number;
  revokedAt?: number;
}

/** A personal API token with its hash (for authentication only). */
export interface ApiToken extends ApiTokenInfo {
  tokenHash: string;
}

/** A refresh token (one use; each use issues the next token of its family). */
export interface RefreshToken {
  tokenHash: string;
  userId: string;
  /** Every token issued from one login shares a family; reuse of a used token revokes the family. */
  familyId: string;
  createdAt: number;
  expiresAt: number;
  usedAt?: number;
  revokedAt?: number;
}

/**
 * What using a refresh token found. `reused`: the token had been used before — it was stolen or
 * replayed, so the caller should revoke its family.
 */
export type RefreshTokenUse =
  | { type: "ok"; token: RefreshToken }
  | { type: "reused"; token: RefreshToken }
  | { type: "revoked"; token: RefreshToken }
  | { type: "expired"; token: RefreshToken }
  | { type: "unknown" };

/** A thread as the server keeps it. */
export interface StoredThread {
  id: string;
  userId: string;
  info: ThreadInfo;
  title: string;
  /** The server's vocabulary (e.g. `idle`, `running`); the store only filters on it. */
  status: string;
  createdAt: number;
  updatedAt: number;
  archived: boolean;
  archivedAt?: number;
  /** The seq of the thread's last event (0 when none). */
  lastSeq: number;
}

/** Filters and page of a thread listing. Newest `updatedAt` first. */
export interface ThreadListQuery {
  /** `true`: archived only; `false`: not archived only; omitted: both. */
  archived?: boolean;
  status?: string;
  /** Case-insensitive substring of the title. */
  search?: string;
  /** 1–200, default 50. */
  limit?: number;
  /** `nextCursor` of the previous page. A cursor that is not one → `invalid_request`. */
  cursor?: string;
}

/** One page of threads; `nextCursor` is absent on the last page. */
export interface ThreadPage {
  threads: StoredThread[];
  nextCursor?: string;
}

/** Where a user-owned thread is looked up. */
export interface ThreadScope {
  userId: string;
  threadId: string;
}

/** An event to append; the store gives it its seq. */
export interface NewEvent {
  turnId?: string;
  /** Unix ms. */
  at: number;
  event: ThreadEvent;
}

/** A turn the server runs (the store's view: enough to resume unfinished ones at start-up). */
export interface StoredTurn {
  id: string;
  threadId: string;
  userId: string;
  /** The server's vocabulary (e.g. `queued`, `running`, `waitingForApproval`, `completed`). */
  status: string;
  startedAt: number;
  updatedAt: number;
  /** Absent while the turn is unfinished. */
  finishedAt?: number;
  error?: ErrorInfo;
}

/** An encrypted secret: the caller encrypts (e.g. AES-256-GCM); the store keeps bytes. */
export interface StoredSecret {
  /** Who owns it, e.g. `user:<id>` or `env:<id>`. */
  scope: string;
  name: string;
  ciphertext: Uint8Array;
  iv: Uint8Array;
  tag: Uint8Array;
  /** Which encryption key (for rotation). */
  keyVersion: number;
  createdAt: number;
  updatedAt: number;
}

/** A secret as listed (no bytes). */
export interface SecretInfo {
  scope: string;
  name: string;
  keyVersion: number;
  createdAt: number;
  updatedAt: number;
}

/** The usage of one model call. */
export interface UsageRecord {
  userId: string;
  threadId: string;
  turnId: string;
  model: string;
  usage: Usage;
  /** USD, when the model has a price. */
  costUsd?: number;
  at: number;
}

/** Usage summed over some calls. */
export interface UsageTotals {
  calls: number;
  usage: Usage;
  costUsd: number;
}

/** One UTC day of a user's usage. */
export interface UsageDay extends UsageTotals {
  /** `YYYY-MM-DD`, UTC. */
  day: string;
}

/** A thread's usage, in all and per turn (in order of the turn's first call). */
export interface ThreadUsage {
  total: UsageTotals;
  turns: Array<UsageTotals & { turnId: string }>;
}

/** Something that happened that an admin may need to know later. */
export interface AuditEntry {
  /** Increasing. */
  id: number;
  /** The user concerned, when known. */
  userId?: string;
  /** Who did it: a username, `system`, or what the caller names. */
  actor: string;
  /** E.g. `login`, `login.failed`, `token.create`, `approval.respond`. */
  action: string;
  /** What it was done to (an id), when anything. */
  target?: string;
  ip?: string;
  at: number;
  details?: Record<string, unknown>;
}

/** An audit entry to append. */
export type NewAuditEntry = Omit<AuditEntry, "id">;

/** A fixed-window rate-limit counter after one hit. */
export interface RateLimitHit {
  /** Hits in the current window, this one included. */
  count: number;
  windowStart: number;
  /** When the window ends (for `Retry-After`). */
  resetAt: number;
}

/** Users. Usernames are unique ignoring case. */
export interface UserRepo {
  /** A taken username → `conflict`. */
  create(user: {
    id: string;
    username: string;
    role: UserRole;
    passwordHash: string;
    now: number;
  }): Promise<User>;
  get(id: string): Promise<User | undefined>;
  getByUsername(username: string): Promise<User | undefined>;
  /** All users, oldest first. */
  list(): Promise<User[]>;
  setPasswordHash(id: string, passwordHash: string, now: number): Promise<boolean>;
  disable(id: string, now: number): Promise<boolean>;
  /** How many users exist (first-run set-up creates the admin when 0). */
  count(): Promise<number>;
}

/** Browser sessions. */
export interface SessionRepo {
  create(session: Omit<BrowserSession, "lastSeenAt">): Promise<BrowserSession>;
  /** The session, unless it has expired at `now`. */
  get(id: string, now: number): Promise<BrowserSession | undefined>;
  /** Records activity; `expiresAt` slides the expiry when given. */
  touch(id: string, now: number, expiresAt?: number): Promise<boolean>;
  delete(id: string): Promise<boolean>;
  /** Signs a user out everywhere; returns how many sessions ended. */
  deleteAllOfUser(userId: string): Promise<number>;
  deleteExpired(now: number): Promise<number>;
}

/** Personal API tokens. */
export interface ApiTokenRepo {
  /** A token hash already stored → `conflict`. */
  create(token: Omit<ApiToken, "lastUsedAt" | "revokedAt">): Promise<ApiTokenInfo>;
  /** The token with this hash, unless it is revoked or expired at `now`. */
  findActiveByHash(tokenHash: string, now: number): Promise<ApiToken | undefined>;
  /** A user's tokens, newest first, revoked ones included (never the hash). */
  listByUser(userId: string): Promise<ApiTokenInfo[]>;
  /** `false` when the user has no such (unrevoked) token. */
  revoke(userId: string, id: string, now: number): Promise<boolean>;
  touch(id: string, now: number): Promise<void>;
}

/** Refresh tokens with use-once rotation. */
export interface RefreshTokenRepo {
  create(token: Omit<RefreshToken, "usedAt" | "revokedAt">): Promise<RefreshToken>;
  /**
   * Marks the token used, atomically: of several concurrent uses exactly one is `ok`, the others
   * are `reused`. Reuse, revocation and expiry are reported, not thrown.
   */
  use(tokenHash: string, now: number): Promise<RefreshTokenUse>;
  /** Revokes every token of a family; returns how many were still unrevoked. */
  revokeFamily(familyId: string, now: number): Promise<number>;
  /** Revokes every token of a user (password change, disable). */
  revokeAllOfUser(userId: string, now: number): Promise<number>;
}

/** Threads, scoped to their owner. */
export interface ThreadRepo {
  /** The id is `info.id`; `createdAt` is `info.createdAt`. A taken id → `conflict`. */
  create(thread: {
    userId: string;
    info: ThreadInfo;
    title: string;
    status: string;
    now: number;
  }): Promise<StoredThread>;
  get(scope: ThreadScope): Promise<StoredThread | undefined>;
  /** A page of the user's threads, newest `updatedAt` first (ties: larger id first). */
  list(userId: string, query?: ThreadListQuery): Promise<ThreadPage>;
  rename(scope: ThreadScope, title: string, now: number): Promise<StoredThread | undefined>;
  setArchived(scope: ThreadScope, archived: boolean, now: number): Promise<StoredThread | undefined>;
  setStatus(scope: ThreadScope, status: string, now: number): Promise<StoredThread | undefined>;
  /** Replaces the thread's settings (model, policies …); `info.id` must stay the same. */
  setInfo(scope: ThreadScope, info: ThreadInfo, now: number): Promise<StoredThread | undefined>;
}

/** A thread's event stream. */
export interface EventRepo {
  /**
   * Appends events with the next seqs, in one transaction that holds the thread (concurrent appends
   * to one thread get disjoint, gap-free ranges, committed in seq order). The turn runner's write
   * path: not scoped; an unknown thread → `not_found`.
   */
  append(threadId: string, events: readonly NewEvent[]): Promise<EventEnvelope[]>;
  /** Events with seq > `afterSeq`, in order, at most `limit` (1–1000, default 500). */
  listAfter(scope: ThreadScope, afterSeq: number, limit?: number): Promise<EventEnvelope[] | undefined>;
  lastSeq(scope: ThreadScope): Promise<number | undefined>;
}

/** A thread's durable journal (the lines a resumed thread is rebuilt from). */
export interface RolloutRepo {
  /** Appends lines, which carry their own seq (a seq already stored → `conflict`). Not scoped. */
  append(threadId: string, lines: readonly RolloutLine[]): Promise<void>;
  /** Every line of the thread, in seq order. Not scoped. */
  read(threadId: string): Promise<RolloutLine[]>;
  /** The last line's seq (0 when none). */
  lastSeq(threadId: string): Promise<number>;
}

/** Turns the server runs, so that unfinished ones resume at start-up. */
export interface TurnRepo {
  /**
   * Records a new, unfinished turn (status e.g. `queued` or `running`). An unknown thread →
   * `not_found`; a taken turn id → `conflict`. Not scoped: the server checked the thread's owner.
   */
  create(turn: { id: string; threadId: string; status: string; now: number }): Promise<StoredTurn>;
  /** Updates an unfinished turn's status (e.g. `waitingForApproval`). */
  setStatus(turnId: string, status: string, now: number): Promise<boolean>;
  markFinished(turnId: string, end: { status: string; now: number; error?: ErrorInfo }): Promise<boolean>;
  /** Every unfinished turn, oldest first. Not scoped (start-up). */
  listUnfinished(): Promise<StoredTurn[]>;
  /** A thread's turns, oldest first. */
  listByThread(scope: ThreadScope): Promise<StoredTurn[] | undefined>;
}

/** Encrypted secrets by scope and name. */
export interface SecretRepo {
  /** Creates or replaces. */
  put(secret: Omit<StoredSecret, "createdAt" | "updatedAt"> & { now: number }): Promise<void>;
  get(scope: string, name: string): Promise<StoredSecret | undefined>;
  delete(scope: string, name: string): Promise<boolean>;
  /** The scope's secrets by name (no bytes). */
  list(scope: string): Promise<SecretInfo[]>;
}

/** Model usage. */
export interface UsageRepo {
  record(record: UsageRecord): Promise<void>;
  /** A user's usage per UTC day, oldest first; `from`/`to` are inclusive `YYYY-MM-DD`. */
  perDay(userId: string, range?: { from?: string; to?: string }): Promise<UsageDay[]>;
  forThread(scope: ThreadScope): Promise<ThreadUsage | undefined>;
  /** A user's usage of every call made at or after `since` (Unix ms), e.g. for a rate-limit window. */
  totalsSince(userId: string, since: number): Promise<UsageTotals>;
}

/** The audit log (append-only). */
export interface AuditRepo {
  append(entry: NewAuditEntry): Promise<AuditEntry>;
  /** Newest first; `before` is an entry id to page back from. `limit` 1–1000, default 100. */
  list(query?: {
    userId?: string;
    from?: number;
    to?: number;
    before?: number;
    limit?: number;
  }): Promise<AuditEntry[]>;
}

/** Fixed-window counters (per user, per IP …). */
export interface RateLimitRepo {
  /** Counts one hit of `key` in the window of `windowMs` that contains `now`. */
  hit(key: string, windowMs: number, now: number): Promise<RateLimitHit>;
  /** Forgets counters whose window started before `before`. */
  prune(before: number): Promise<number>;
}

/** An environment (a template tasks run in). Its secrets live in the SecretRepo (scope `env:<id>`). */
export interface StoredEnvironment {
  id: string;
  userId: string;
  name: string;
  repository: string;
  branch: string;
  setupScript: string;
  env: Record<string, string>;
  network: NetworkPolicy;
  template?: string;
  setupTimeoutMs: number;
  pinned: boolean;
  /** The forge of the repository (its token is the environment's `FORGE_TOKEN` secret). */
  forge?: { kind: ForgeKind; apiUrl: string; repo: string };
  createdAt: number;
  updatedAt: number;
  /** Tasks that use it (archived ones included). */
  taskCount: number;
}

/** The fields of an environment a caller sets. */
export type EnvironmentFields = Omit<
  StoredEnvironment,
  "id" | "userId" | "createdAt" | "updatedAt" | "taskCount"
>;

/** Environments, scoped to their owner. */
export interface EnvironmentRepo {
  /** A name the user already uses (ignoring case) → `conflict`. */
  create(env: { id: string; userId: string; now: number } & EnvironmentFields): Promise<StoredEnvironment>;
  get(userId: string, id: string): Promise<StoredEnvironment | undefined>;
  /** Pinned first, then by name. */
  list(userId: string): Promise<StoredEnvironment[]>;
  /** Changes the given fields (`forge: null` removes it). A taken name → `conflict`. */
  update(
    userId: string,
    id: string,
    changes: Partial<Omit<EnvironmentFields, "forge">> & { forge?: StoredEnvironment["forge"] | null },
    now: number,
  ): Promise<StoredEnvironment | undefined>;
  /** Deletes it; an environment that tasks still use (archived ones too) → `conflict`. */
  delete(userId: string, id: string): Promise<boolean>;
}

/** A task (its attempts, user turns and runs are rows of their own). */
export interface StoredTask {
  id: string;
  userId: string;
  environmentId: string;
  title: string;
  branch: string;
  bestOfN: number;
  /** The server's vocabulary (TaskStatus). */
  status: string;
  baseCommit?: string;
  /** The model every attempt uses, when the request chose one. */
  model?: string;
  /** The approval policy of its attempts' threads, when the request chose one. */
  approvalPolicy?: string;
  /** A diff applied to every workspace before the agent starts. */
  preApplyPatch?: string;
  /** The first prompt, as text (for listings and search). */
  prompt: string;
  archived: boolean;
  error?: ErrorInfo;
  createdAt: number;
  updatedAt: number;
  /** The seq of its last task event (0 when none). */
  lastSeq: number;
}

/** One attempt of a task. */
export interface StoredAttempt {
  id: string;
  taskId: string;
  index: number;
  threadId?: string;
  sandboxId?: string;
  /** AttemptStatus. */
  status: string;
  published?: PublishedAttempt;
  createdAt: number;
  updatedAt: number;
}

/** A prompt given to a task. */
export interface StoredUserTurn {
  id: string;
  taskId: string;
  index: number;
  input: InputPart[];
  attemptIds: string[];
  createdAt: number;
}

/** One run of an attempt (answering one user turn); `id` is the thread turn's id. */
export type StoredAssistantTurn = AssistantTurn & { taskId: string };

/** Filters and page of a task listing. Newest `createdAt` first. */
export interface TaskListQuery {
  status?: string;
  environmentId?: string;
  archived?: boolean;
  /** Case-insensitive substring of the title or the prompt. */
  search?: string;
  /** 1–200, default 50. */
  limit?: number;
  /** `nextCursor` of the previous page; not one → `invalid_request`. */
  cursor?: string;
}

/** Tasks with their attempts, user turns, runs and event log. Reads are scoped to the owner. */
export interface TaskRepo {
  /**
   * Creates the task, its attempts (indexes 0…n-1, status `queued`) and its first user turn (answered
   * by every attempt), in one transaction: all or nothing. `attemptIds` must be `bestOfN` distinct ids
   * (else `invalid_request`); an environment the user does not have → `not_found`; a taken id →
   * `conflict`.
   */
  create(task: {
    task: Omit<StoredTask, "createdAt" | "updatedAt" | "lastSeq" | "archived" | "error">;
    attemptIds: string[];
    userTurn: Omit<StoredUserTurn, "taskId" | "createdAt" | "attemptIds">;
    now: number;
  }): Promise<StoredTask>;
  get(userId: string, id: string): Promise<StoredTask | undefined>;
  /** Not scoped: the task runner's read (start-up, background work). */
  getUnscoped(id: string): Promise<StoredTask | undefined>;
  /** A page of the user's tasks, newest `createdAt` first (ties: larger id first). */
  list(userId: string, query?: TaskListQuery): Promise<{ tasks: StoredTask[]; nextCursor?: string }>;
  /** Tasks whose status is one of `statuses` (start-up recovery). Not scoped. */
  listByStatus(statuses: readonly string[]): Promise<StoredTask[]>;
  /**
   * Not scoped (the runner): sets the fields given (`error: null` clears it) and moves `updatedAt`.
   * `false` when there is no such task.
   */
  update(
    id: string,
    changes: { status?: string; baseCommit?: string; error?: ErrorInfo | null; title?: string },
    now: number,
  ): Promise<boolean>;
  setArchived(userId: string, id: string, archived: boolean, now: number): Promise<StoredTask | undefined>;
  rename(userId: string, id: string, title: string, now: number): Promise<StoredTask | undefined>;

  /** A task's attempts by index. Not scoped, like the rest of the runner's reads below. */
  attempts(taskId: string): Promise<StoredAttempt[]>;
  /** Sets the fields given and moves `updatedAt`; `false` when there is no such attempt. */
  updateAttempt(
    attemptId: string,
    changes: { status?: string; threadId?: string; sandboxId?: string; published?: PublishedAttempt },
    now: number,
  ): Promise<boolean>;

  /** A task's user turns by index. */
  userTurns(taskId: string): Promise<StoredUserTurn[]>;
  /**
   * Adds a follow-up prompt answered by `attemptIds` (which must be the task's, else
   * `invalid_request`). A taken index or id → `conflict`; an unknown task → `not_found`.
   */
  addUserTurn(turn: Omit<StoredUserTurn, "createdAt">, now: number): Promise<StoredUserTurn>;

  /** A task's runs, oldest first (ties: by attempt index). */
  assistantTurns(taskId: string): Promise<StoredAssistantTurn[]>;
  /**
   * Creates or replaces a run (by id). Its attempt and user turn must be its task's (else
   * `not_found`); an id that is another task's run → `conflict`.
   */
  putAssistantTurn(turn: StoredAssistantTurn): Promise<void>;

  /**
   * Appends events with the next seqs of the task (gap-free, like thread events). Not scoped; an
   * unknown task → `not_found`.
   */
  appendEvents(
    taskId: string,
    events: ReadonlyArray<{ at: number; event: TaskEvent }>,
  ): Promise<TaskEventEnvelope[]>;
  /** Events with seq > `afterSeq`, at most `limit` (1–1000, default 500). Scoped. */
  eventsAfter(
    userId: string,
    taskId: string,
    afterSeq: number,
    limit?: number,
  ): Promise<TaskEventEnvelope[] | undefined>;
}

/** A sandbox as the server keeps it. */
export interface StoredSandbox {
  id: string;
  userId: string;
  taskId?: string;
  attemptId?: string;
  threadId?: string;
  workspace: string;
  network: NetworkPolicy;
  /** `running` | `stopped`. */
  state: string;
  createdAt: number;
  startedAt?: number;
  lastActiveAt: number;
}

/** A capability token for one sandbox (hash only). */
export interface SandboxToken {
  tokenHash: string;
  sandboxId: string;
  userId: string;
  createdAt: number;
  expiresAt: number;
}

/** Sandboxes and their capability tokens. */
export interface SandboxRepo {
  create(
    sandbox: Omit<StoredSandbox, "lastActiveAt" | "startedAt"> & { now: number },
  ): Promise<StoredSandbox>;
  get(userId: string, id: string): Promise<StoredSandbox | undefined>;
  /** Not scoped (capability-token requests, the idle reaper). */
  getUnscoped(id: string): Promise<StoredSandbox | undefined>;
  /** A user's sandboxes, newest first. */
  list(userId: string): Promise<StoredSandbox[]>;
  /**
   * Sets the state. Going to `running` from another state sets `startedAt` (and `lastActiveAt`) to
   * `now`; leaving `running` clears `startedAt`.
   */
  setState(id: string, state: string, now: number): Promise<boolean>;
  /** Records activity (`lastActiveAt` never moves back). */
  touch(id: string, now: number): Promise<void>;
  /** Sandboxes in `running` state whose `lastActiveAt` is before `before`. */
  listIdle(before: number): Promise<StoredSandbox[]>;
  /** A hash already stored → `conflict`; a sandbox the user does not have → `not_found`. */
  createToken(token: SandboxToken): Promise<void>;
  /** The token with this hash, unless it expired at `now`. */
  findToken(tokenHash: string, now: number): Promise<SandboxToken | undefined>;
  /** Forgets tokens expired at `now`; returns how many. */
  deleteExpiredTokens(now: number): Promise<number>;
}

/**
 * One entry of a workspace checkpoint's manifest. `path` is relative to the workspace, `/`-separated,
 * without `.`/`..` or empty segments. `mode` holds the permission bits (`0o777`, never setuid/setgid).
 */
export type WorkspaceManifestEntry =
  | { type: "dir"; path: string; mode: number }
  | { type: "file"; path: string; mode: number; sha256: string; size: number }
  | { type: "symlink"; path: string; target: string };

/** A snapshot of a thread's workspace: its manifest; file contents are blobs of the same user. */
export interface StoredWorkspaceCheckpoint {
  id: string;
  userId: string;
  threadId: string;
  createdAt: number;
  /** Every entry of the tree, parents before children. */
  manifest: WorkspaceManifestEntry[];
  /** How many files the manifest has. */
  files: number;
  /** The files' total size, uncompressed. */
  bytes: number;
}

/** The content of a file, stored once per user and hash. */
export interface WorkspaceBlob {
  /** Hex SHA-256 of the uncompressed content. */
  sha256: string;
  /** Size of the uncompressed content. */
  size: number;
  /** The content, zlib-compressed (the caller compresses and decompresses). */
  data: Uint8Array;
}

/**
 * Workspace checkpoints and their blobs, every call scoped to one user: another user's checkpoints
 * and blobs are never seen, listed or deleted.
 */
export interface WorkspaceCheckpointRepo {
  /** Of `shas`, those the user has no blob of (each once, in the order given). */
  missingBlobs(userId: string, shas: readonly string[]): Promise<string[]>;
  /** Stores blobs; a hash the user already has is kept as it is. */
  putBlobs(userId: string, blobs: readonly WorkspaceBlob[]): Promise<void>;
  /** The user's blobs of these hashes (unknown ones are left out). */
  getBlobs(userId: string, shas: readonly string[]): Promise<WorkspaceBlob[]>;
  /**
   * Stores a checkpoint as its thread's newest (`files` and `bytes` are counted from the manifest). A
   * thread the user does not have → `not_found`; a file whose blob the user lacks → `conflict` (upload
   * it, then create again); a taken id → `conflict`.
   */
  create(checkpoint: Omit<StoredWorkspaceCheckpoint, "files" | "bytes">): Promise<StoredWorkspaceCheckpoint>;
  /** The thread's newest checkpoint. */
  latest(scope: ThreadScope): Promise<StoredWorkspaceCheckpoint | undefined>;
  get(scope: { userId: string; id: string }): Promise<StoredWorkspaceCheckpoint | undefined>;
  /**
   * Keeps the thread's newest `keep` (≥ 1) checkpoints and deletes the older ones, with those of their
   * blobs that no checkpoint of the user references any more. Returns what was deleted. (Blobs uploaded
   * by a save that died before `create` are not collected.)
   */
  prune(scope: ThreadScope & { keep: number }): Promise<{ checkpoints: number; blobs: number }>;
}

/**
 * Input sent to a durable thread's running turn (steering from an API node), taken by the worker that
 * runs the turn. Not scoped: the API node checked the thread's owner; the worker runs the turn.
 */
export interface ThreadInputRepo {
  /** Queues input for the turn; answers the row's seq (to withdraw it). */
  add(input: {
    userId: string;
    threadId: string;
    turnId: string;
    input: InputPart[];
    now: number;
  }): Promise<number>;
  /**
   * Takes the turn's queued input under `key`, oldest first: marks what nobody took with the key and
   * answers everything marked with it, so taking again with the same key (a retried step) answers the
   * same input (plus any that came meanwhile).
   */
  take(turnId: string, key: string): Promise<InputPart[][]>;
  /** Deletes the input of `seq` unless it was taken; whether it was deleted. */
  withdraw(seq: number): Promise<boolean>;
  /** Deletes the thread's input for turns other than `turnId` (ended turns'); how many rows. */
  prune(threadId: string, turnId: string): Promise<number>;
}

/** The repositories, as seen inside and outside a transaction. */
export interface KilnStoreRepos {
  readonly users: UserRepo;
  readonly sessions: SessionRepo;
  readonly apiTokens: ApiTokenRepo;
  readonly refreshTokens: RefreshTokenRepo;
  readonly threads: ThreadRepo;
  readonly events: EventRepo;
  readonly rollout: RolloutRepo;
  readonly turns: TurnRepo;
  readonly secrets: SecretRepo;
  readonly usage: UsageRepo;
  readonly audit: AuditRepo;
  readonly rateLimits: RateLimitRepo;
  readonly environments: EnvironmentRepo;
  readonly tasks: TaskRepo;
  readonly sandboxes: SandboxRepo;
  readonly workspaceCheckpoints: WorkspaceCheckpointRepo;
  readonly threadInputs: ThreadInputRepo;
}

/** Kiln's database. */
export interface KilnStore extends KilnStoreRepos {
  readonly dialect: StoreDialect;
  /** The schema version, and the migrations this open applied (empty when it was up to date). */
  readonly schema: { version: number; appliedAtOpen: number[] };
  /**
   * Runs `fn` in one transaction: all of its writes or none (a throw rolls back). Use only `tx` inside
   * (on SQLite, the store waits for the transaction, so calling the outer store would deadlock).
   */
  transaction<T>(fn: (tx: KilnStoreRepos) => Promise<T>): Promise<T>;
  /** Checks the database answers (for `/readyz`). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
