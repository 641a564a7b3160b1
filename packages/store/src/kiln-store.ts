// The store's contract: everything the server keeps, behind one interface with a SQLite and a
// PostgreSQL implementation. Records are in-process types (the HTTP shapes live in @kiln/protocol);
// times are Unix ms; ids are made by the caller. A user's data is read through a `userId`: another
// user's object is `undefined` (or `false` for a mutation), never an error that reveals it exists.
import type { ErrorInfo, EventEnvelope, RolloutLine, ThreadEvent, ThreadInfo, Usage } from "@kiln/protocol";

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
