// The behaviour every KilnStore must have, as one suite that runs against each database
// (sqlite.test.ts, postgres.test.ts). Tests share one database per run and stay independent by
// making their own users: scoping is then tested by every test, not only the scoping ones.
import { randomUUID } from "node:crypto";
import {
  type EventEnvelope,
  KilnError,
  newId,
  ROLLOUT_VERSION,
  type RolloutLine,
  type ThreadInfo,
} from "@kiln/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KilnStore, NewEvent, StoredThread, User } from "./kiln-store.ts";
import { type Migration, migrations } from "./migrations/migration.ts";
import { openStore } from "./open-store.ts";
import { secretScope } from "./repos/secrets.ts";
import { encodeThreadCursor } from "./repos/thread-cursor.ts";
import type { TestDatabase } from "./test-database.ts";

/** A fixed clock: 2026-01-15T10:00:00Z. */
const T0 = Date.UTC(2026, 0, 15, 10);
const HOUR = 3_600_000;

/** Defines the store contract suite for one database; `newDatabase` makes an empty one. */
export function describeStoreContract(name: string, newDatabase: () => Promise<TestDatabase>): void {
  describe(name, () => {
    let store: KilnStore;
    const databases: TestDatabase[] = [];
    const fresh = async () => {
      const db = await newDatabase();
      databases.push(db);
      return db;
    };

    beforeAll(async () => {
      store = await openStore((await fresh()).url);
    });
    afterAll(async () => {
      await store?.close();
      for (const db of databases) await db.drop();
    });

    const newUser = async (role: User["role"] = "user"): Promise<User> => {
      const id = `usr_${randomUUID()}`;
      return store.users.create({
        id,
        username: `u-${id.slice(4, 16)}`,
        role,
        passwordHash: "scrypt$x",
        now: T0,
      });
    };
    const threadInfo = (createdAt = T0): ThreadInfo => ({
      id: newId("thr", createdAt),
      createdAt,
      cwd: "/work/repo",
      model: "gpt-test",
      modelProvider: "openai",
      sandbox: "workspace-write",
      approvalPolicy: "on-request",
      mode: "code",
      additionalDirectories: [],
    });
    const newThread = (userId: string, options: { title?: string; status?: string; now?: number } = {}) =>
      store.threads.create({
        userId,
        info: threadInfo(),
        title: options.title ?? "a thread",
        status: options.status ?? "idle",
        now: options.now ?? T0,
      });
    const warning = (message: string, at = T0): NewEvent => ({ at, event: { type: "warning", message } });

    describe("migrations", () => {
      it("opening a new database applies every migration, and opening it again applies none", async () => {
        const db = await fresh();
        const first = await openStore(db.url);
        const all = migrations.map((m) => m.version);
        expect(first.schema).toEqual({ version: migrations.length, appliedAtOpen: all });
        const user = await first.users.create({
          id: "usr_kept",
          username: "kept",
          role: "admin",
          passwordHash: "h",
          now: T0,
        });
        await first.close();

        const again = await openStore(db.url);
        expect(again.schema).toEqual({ version: migrations.length, appliedAtOpen: [] });
        expect(await again.users.get("usr_kept")).toEqual(user);
        await again.close();
      });

      it("a database newer than this Kiln is refused with an error that says what to do", async () => {
        const db = await fresh();
        const future: Migration = {
          version: migrations.length + 1,
          name: "from-the-future",
          sqlite: "CREATE TABLE future_things (id INTEGER)",
          postgres: "CREATE TABLE future_things (id INTEGER)",
        };
        await (await openStore(db.url, { migrations: [...migrations, future] })).close();

        const error = await openStore(db.url).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(KilnError);
        expect((error as KilnError).code).toBe("config_invalid");
        expect((error as KilnError).message).toBe(
          `the database is at schema version ${migrations.length + 1}, newer than this Kiln (which knows up to ` +
            `${migrations.length}): run a newer Kiln, or point it at another database`,
        );
      });

      it("a failing migration leaves the database as it was", async () => {
        const db = await fresh();
        const broken: Migration = {
          version: migrations.length + 1,
          name: "broken",
          sqlite: "CREATE TABLE half_done (id INTEGER); CREATE TABLE half_done (id INTEGER)",
          postgres: "CREATE TABLE half_done (id INTEGER); CREATE TABLE half_done (id INTEGER)",
        };
        await expect(openStore(db.url, { migrations: [...migrations, broken] })).rejects.toThrow(/half_done/);

        const store2 = await openStore(db.url);
        expect(store2.schema.appliedAtOpen).toEqual(migrations.map((m) => m.version));
        await store2.close();
      });

      it("two servers opening one new PostgreSQL database at once migrate it exactly once", async (ctx) => {
        // SQLite: one process holds one store; other processes wait on the file lock (busy_timeout).
        if (store.dialect !== "postgres") ctx.skip();
        const db = await fresh();
        const [a, b] = await Promise.all([openStore(db.url), openStore(db.url)]);
        expect([a.schema.appliedAtOpen, b.schema.appliedAtOpen].sort((x, y) => x.length - y.length)).toEqual([
          [],
          migrations.map((m) => m.version),
        ]);
        await Promise.all([a.close(), b.close()]);
      });

      it("answers a ping", async () => {
        await expect(store.ping()).resolves.toBeUndefined();
      });
    });

    describe("users", () => {
      it("a user is stored as given and found by id and by username in any case", async () => {
        const id = `usr_${randomUUID()}`;
        const user = await store.users.create({
          id,
          username: `Ada-${id.slice(4, 12)}`,
          role: "admin",
          passwordHash: "scrypt$abc",
          now: T0,
        });
        expect(user).toEqual({
          id,
          username: `Ada-${id.slice(4, 12)}`,
          role: "admin",
          passwordHash: "scrypt$abc",
          createdAt: T0,
          updatedAt: T0,
        });
        expect(await store.users.get(id)).toEqual(user);
        expect(await store.users.getByUsername(`ADA-${id.slice(4, 12).toUpperCase()}`)).toEqual(user);
        expect(await store.users.get("usr_nobody")).toBeUndefined();
        expect(await store.users.getByUsername("nobody-at-all")).toBeUndefined();
      });

      it("a username taken in another case is a conflict", async () => {
        const user = await newUser();
        const error = await store.users
          .create({
            id: "usr_other",
            username: user.username.toUpperCase(),
            role: "user",
            passwordHash: "h",
            now: T0,
          })
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(KilnError);
        expect((error as KilnError).code).toBe("conflict");
        expect((error as KilnError).details).toEqual({ field: "username" });
      });

      it("users are listed oldest first and counted; a password hash changes and a user is disabled", async () => {
        const before = await store.users.count();
        const a = await newUser();
        const b = await newUser("admin");
        expect(await store.users.count()).toBe(before + 2);
        const listed = await store.users.list();
        expect(listed.filter((u) => u.id === a.id || u.id === b.id)).toHaveLength(2);

        expect(await store.users.setPasswordHash(a.id, "scrypt$new", T0 + 1)).toBe(true);
        expect(await store.users.disable(b.id, T0 + 2)).toBe(true);
        expect(await store.users.disable("usr_nobody", T0 + 2)).toBe(false);
        expect(await store.users.get(a.id)).toEqual({ ...a, passwordHash: "scrypt$new", updatedAt: T0 + 1 });
        expect(await store.users.get(b.id)).toEqual({ ...b, updatedAt: T0 + 2, disabledAt: T0 + 2 });
      });
    });

    describe("browser sessions", () => {
      it("a session is found until it expires, slides when touched, and ends when deleted", async () => {
        const user = await newUser();
        const id = `sess_${randomUUID()}`;
        const session = await store.sessions.create({
          id,
          userId: user.id,
          csrfTokenHash: "csrf-hash",
          createdAt: T0,
          expiresAt: T0 + HOUR,
        });
        expect(session).toEqual({
          id,
          userId: user.id,
          csrfTokenHash: "csrf-hash",
          createdAt: T0,
          lastSeenAt: T0,
          expiresAt: T0 + HOUR,
        });
        expect(await store.sessions.get(id, T0 + HOUR - 1)).toEqual(session);
        expect(await store.sessions.get(id, T0 + HOUR)).toBeUndefined();

        expect(await store.sessions.touch(id, T0 + 10, T0 + 2 * HOUR)).toBe(true);
        expect(await store.sessions.get(id, T0 + HOUR)).toEqual({
          ...session,
          lastSeenAt: T0 + 10,
          expiresAt: T0 + 2 * HOUR,
        });
        expect(await store.sessions.touch(id, T0 + 2 * HOUR)).toBe(false);

        expect(await store.sessions.delete(id)).toBe(true);
        expect(await store.sessions.get(id, T0)).toBeUndefined();
        expect(await store.sessions.delete(id)).toBe(false);
      });

      it("signing a user out everywhere ends only that user's sessions; expired ones can be swept", async () => {
        const a = await newUser();
        const b = await newUser();
        const make = (userId: string, expiresAt: number) =>
          store.sessions.create({
            id: `sess_${randomUUID()}`,
            userId,
            csrfTokenHash: "c",
            createdAt: T0,
            expiresAt,
          });
        await make(a.id, T0 + HOUR);
        await make(a.id, T0 + HOUR);
        const kept = await make(b.id, T0 + HOUR);
        expect(await store.sessions.deleteAllOfUser(a.id)).toBe(2);
        expect(await store.sessions.get(kept.id, T0)).toEqual(kept);

        const old = await make(b.id, T0 - 1);
        expect(await store.sessions.deleteExpired(T0)).toBeGreaterThanOrEqual(1);
        expect(await store.sessions.get(old.id, T0 - 10)).toBeUndefined();
        expect(await store.sessions.get(kept.id, T0)).toEqual(kept);
      });

      it("a session for a user who does not exist is not_found", async () => {
        await expect(
          store.sessions.create({
            id: "sess_x",
            userId: "usr_nobody",
            csrfTokenHash: "c",
            createdAt: T0,
            expiresAt: T0,
          }),
        ).rejects.toMatchObject({ code: "not_found" });
      });
    });

    describe("API tokens", () => {
      it("a token is found by its hash until it is revoked, and is listed without its hash", async () => {
        const user = await newUser();
        const id = `tok_${randomUUID()}`;
        const info = await store.apiTokens.create({
          id,
          userId: user.id,
          name: "ci",
          tokenHash: `hash-${id}`,
          scopes: ["threads:read", "threads:write"],
          createdAt: T0,
        });
        expect(info).toEqual({
          id,
          userId: user.id,
          name: "ci",
          scopes: ["threads:read", "threads:write"],
          createdAt: T0,
        });
        expect(await store.apiTokens.findActiveByHash(`hash-${id}`, T0)).toEqual({
          ...info,
          tokenHash: `hash-${id}`,
        });

        await store.apiTokens.touch(id, T0 + 5);
        expect(await store.apiTokens.listByUser(user.id)).toEqual([{ ...info, lastUsedAt: T0 + 5 }]);

        expect(await store.apiTokens.revoke(user.id, id, T0 + 9)).toBe(true);
        expect(await store.apiTokens.revoke(user.id, id, T0 + 10)).toBe(false);
        expect(await store.apiTokens.findActiveByHash(`hash-${id}`, T0 + 10)).toBeUndefined();
        expect(await store.apiTokens.listByUser(user.id)).toEqual([
          { ...info, lastUsedAt: T0 + 5, revokedAt: T0 + 9 },
        ]);
      });

      it("only its owner can revoke a token, and an expired token is not found", async () => {
        const owner = await newUser();
        const other = await newUser();
        const id = `tok_${randomUUID()}`;
        await store.apiTokens.create({
          id,
          userId: owner.id,
          name: "short",
          tokenHash: `hash-${id}`,
          scopes: [],
          createdAt: T0,
          expiresAt: T0 + HOUR,
        });
        expect(await store.apiTokens.revoke(other.id, id, T0)).toBe(false);
        expect(await store.apiTokens.listByUser(other.id)).toEqual([]);
        expect((await store.apiTokens.findActiveByHash(`hash-${id}`, T0 + HOUR - 1))?.id).toBe(id);
        expect(await store.apiTokens.findActiveByHash(`hash-${id}`, T0 + HOUR)).toBeUndefined();
      });

      it("two tokens with one hash are a conflict", async () => {
        const user = await newUser();
        const make = (id: string) =>
          store.apiTokens.create({
            id,
            userId: user.id,
            name: id,
            tokenHash: `same-${user.id}`,
            scopes: [],
            createdAt: T0,
          });
        await make(`tok_${randomUUID()}`);
        await expect(make(`tok_${randomUUID()}`)).rejects.toMatchObject({ code: "conflict" });
      });
    });

    describe("refresh tokens", () => {
      const newFamily = async () => {
        const user = await newUser();
        const familyId = `fam_${randomUUID()}`;
        const make = (tokenHash: string, expiresAt = T0 + HOUR) =>
          store.refreshTokens.create({ tokenHash, userId: user.id, familyId, createdAt: T0, expiresAt });
        return { user, familyId, make };
      };

      it("a refresh token is used once; using it again is reported as reuse so the family can be revoked", async () => {
        const { user, familyId, make } = await newFamily();
        const first = await make(`rt-${randomUUID()}`);
        expect(first).toEqual({
          tokenHash: first.tokenHash,
          userId: user.id,
          familyId,
          createdAt: T0,
          expiresAt: T0 + HOUR,
        });
        expect(await store.refreshTokens.use(first.tokenHash, T0 + 1)).toEqual({
          type: "ok",
          token: { ...first, usedAt: T0 + 1 },
        });
        const second = await make(`rt-${randomUUID()}`);

        expect(await store.refreshTokens.use(first.tokenHash, T0 + 2)).toEqual({
          type: "reused",
          token: { ...first, usedAt: T0 + 1 },
        });
        expect(await store.refreshTokens.revokeFamily(familyId, T0 + 3)).toBe(2);
        expect(await store.refreshTokens.use(second.tokenHash, T0 + 4)).toEqual({
          type: "revoked",
          token: { ...second, revokedAt: T0 + 3 },
        });
      });

      it("of ten concurrent uses of one refresh token exactly one succeeds", async () => {
        const { make } = await newFamily();
        const token = await make(`rt-${randomUUID()}`);
        const results = await Promise.all(
          Array.from({ length: 10 }, () => store.refreshTokens.use(token.tokenHash, T0 + 1)),
        );
        expect(results.map((r) => r.type).sort()).toEqual(["ok", ...Array(9).fill("reused")]);
      });

      it("an expired or unknown refresh token says so, and all of a user's tokens can be revoked", async () => {
        const { user, make } = await newFamily();
        const token = await make(`rt-${randomUUID()}`, T0 + 10);
        expect(await store.refreshTokens.use(token.tokenHash, T0 + 10)).toEqual({ type: "expired", token });
        expect(await store.refreshTokens.use("rt-never-issued", T0)).toEqual({ type: "unknown" });
        await make(`rt-${randomUUID()}`);
        expect(await store.refreshTokens.revokeAllOfUser(user.id, T0)).toBe(2);
      });
    });

    describe("threads", () => {
      it("a thread is stored with its info and read back whole", async () => {
        const user = await newUser();
        const info: ThreadInfo = { ...threadInfo(), parentThreadId: "thr_parent", preview: "fix the tests" };
        const thread = await store.threads.create({
          userId: user.id,
          info,
          title: "Fix tests",
          status: "idle",
          now: T0 + 5,
        });
        expect(thread).toEqual({
          id: info.id,
          userId: user.id,
          info,
          title: "Fix tests",
          status: "idle",
          createdAt: T0,
          updatedAt: T0 + 5,
          archived: false,
          lastSeq: 0,
        });
        expect(await store.threads.get({ userId: user.id, threadId: info.id })).toEqual(thread);
        await expect(
          store.threads.create({ userId: user.id, info, title: "again", status: "idle", now: T0 }),
        ).rejects.toMatchObject({ code: "conflict" });
      });

      it("another user can neither see, list, change nor read the events, turns or usage of a thread", async () => {
        const owner = await newUser();
        const intruder = await newUser();
        const thread = await newThread(owner.id, { title: "secret plans" });
        await store.events.append(thread.id, [warning("hello")]);
        await store.turns.create({ id: newId("turn"), threadId: thread.id, status: "running", now: T0 });
        await store.usage.record({
          userId: owner.id,
          threadId: thread.id,
          turnId: "turn_x",
          model: "m",
          usage: {
            inputTokens: 1,
            cachedInputTokens: 0,
            outputTokens: 1,
            reasoningOutputTokens: 0,
            totalTokens: 2,
          },
          at: T0,
        });
        const theirs = { userId: intruder.id, threadId: thread.id };

        expect(await store.threads.get(theirs)).toBeUndefined();
        expect(await store.threads.list(intruder.id)).toEqual({ threads: [] });
        expect(await store.threads.list(intruder.id, { search: "secret" })).toEqual({ threads: [] });
        expect(await store.threads.rename(theirs, "mine now", T0 + 1)).toBeUndefined();
        expect(await store.threads.setArchived(theirs, true, T0 + 1)).toBeUndefined();
        expect(await store.threads.setStatus(theirs, "running", T0 + 1)).toBeUndefined();
        expect(await store.threads.setInfo(theirs, { ...thread.info, model: "x" }, T0 + 1)).toBeUndefined();
        expect(await store.events.listAfter(theirs, 0)).toBeUndefined();
        expect(await store.events.lastSeq(theirs)).toBeUndefined();
        expect(await store.turns.listByThread(theirs)).toBeUndefined();
        expect(await store.usage.forThread(theirs)).toBeUndefined();

        expect(await store.threads.get({ userId: owner.id, threadId: thread.id })).toEqual({
          ...thread,
          lastSeq: 1,
        });
      });

      it("renaming, archiving, unarchiving and status and info changes are stored and move updatedAt", async () => {
        const user = await newUser();
        const thread = await newThread(user.id);
        const scope = { userId: user.id, threadId: thread.id };
        expect(await store.threads.rename(scope, "Renamed", T0 + 1)).toEqual({
          ...thread,
          title: "Renamed",
          updatedAt: T0 + 1,
        });
        expect(await store.threads.setArchived(scope, true, T0 + 2)).toEqual({
          ...thread,
          title: "Renamed",
          updatedAt: T0 + 2,
          archived: true,
          archivedAt: T0 + 2,
        });
        expect(await store.threads.setArchived(scope, false, T0 + 3)).toEqual({
          ...thread,
          title: "Renamed",
          updatedAt: T0 + 3,
        });
        const info = { ...thread.info, model: "gpt-other", mode: "plan" as const };
        expect(await store.threads.setStatus(scope, "running", T0 + 4)).toMatchObject({ status: "running" });
        expect(await store.threads.setInfo(scope, info, T0 + 5)).toEqual({
          ...thread,
          title: "Renamed",
          status: "running",
          info,
          updatedAt: T0 + 5,
        });
        await expect(
          store.threads.setInfo(scope, { ...info, id: "thr_other" }, T0 + 6),
        ).rejects.toMatchObject({ code: "invalid_request" });
      });

      it("a listing pages newest first, and later pages do not change when threads are added meanwhile", async () => {
        const user = await newUser();
        // Seven threads; three share one updatedAt (ties are broken by id).
        const times = [T0 + 1, T0 + 2, T0 + 3, T0 + 3, T0 + 3, T0 + 4, T0 + 5];
        const made: StoredThread[] = [];
        for (const now of times) made.push(await newThread(user.id, { now }));
        const expected = [...made]
          .sort((a, b) => b.updatedAt - a.updatedAt || (a.id < b.id ? 1 : -1))
          .map((t) => t.id);

        const first = await store.threads.list(user.id, { limit: 3 });
        expect(first.threads.map((t) => t.id)).toEqual(expected.slice(0, 3));
        expect(first.nextCursor).toEqual(expect.any(String));

        // New activity lands before the cursor: it must not shift what comes after it.
        await newThread(user.id, { now: T0 + 100 });
        await newThread(user.id, { now: T0 + 101 });

        const seen = [...first.threads.map((t) => t.id)];
        let cursor = first.nextCursor;
        while (cursor !== undefined) {
          const page = await store.threads.list(user.id, { limit: 3, cursor });
          seen.push(...page.threads.map((t) => t.id));
          cursor = page.nextCursor;
        }
        expect(seen).toEqual(expected);
      });

      it("the last page has no cursor, and a limit out of range is brought within 1 to 200", async () => {
        const user = await newUser();
        for (let i = 0; i < 3; i++) await newThread(user.id, { now: T0 + i });
        const all = await store.threads.list(user.id, { limit: 3 });
        expect(all.threads).toHaveLength(3);
        expect(all.nextCursor).toBeUndefined();
        expect((await store.threads.list(user.id, { limit: 0 })).threads).toHaveLength(1);
        expect((await store.threads.list(user.id, { limit: 10_000 })).threads).toHaveLength(3);
      });

      it("a cursor that is not one a listing gave is invalid_request naming the field", async () => {
        const user = await newUser();
        const b64 = (text: string) => Buffer.from(text).toString("base64url");
        for (const cursor of [
          "",
          "not a cursor!",
          b64("{}"),
          b64("[1]"),
          b64('[-1,"thr_x"]'),
          b64("[1,2]"),
          "x".repeat(500),
        ]) {
          const error = await store.threads.list(user.id, { cursor }).catch((e: unknown) => e);
          expect(error, cursor).toBeInstanceOf(KilnError);
          expect((error as KilnError).toInfo()).toEqual({
            code: "invalid_request",
            message: "the cursor is not valid: pass the nextCursor of the previous page unchanged",
            retryable: false,
            details: { field: "cursor" },
          });
        }
        const valid = encodeThreadCursor({ updatedAt: T0, id: "thr_anything" });
        expect(await store.threads.list(user.id, { cursor: valid })).toEqual({ threads: [] });
      });

      it("a listing filters by archived, by status, and by title ignoring case, with % and _ matching themselves", async () => {
        const user = await newUser();
        const parser = await newThread(user.id, {
          title: "Fix the Ünïcode Parser",
          status: "running",
          now: T0 + 1,
        });
        const percent = await newThread(user.id, { title: "100% coverage", now: T0 + 2 });
        const under = await newThread(user.id, { title: "snake_case names", now: T0 + 3 });
        const archived = await store.threads.setArchived(
          { userId: user.id, threadId: percent.id },
          true,
          T0 + 4,
        );
        const ids = async (query: Parameters<KilnStore["threads"]["list"]>[1]) =>
          (await store.threads.list(user.id, query)).threads.map((t) => t.id);

        expect(await ids({ search: "ünïCODE parser" })).toEqual([parser.id]);
        expect(await ids({ search: "%" })).toEqual([archived?.id]);
        expect(await ids({ search: "_" })).toEqual([under.id]);
        expect(await ids({ search: "" })).toEqual([percent.id, under.id, parser.id]);
        expect(await ids({ archived: true })).toEqual([percent.id]);
        expect(await ids({ archived: false })).toEqual([under.id, parser.id]);
        expect(await ids({ status: "running" })).toEqual([parser.id]);
        expect(await ids({ status: "running", archived: true })).toEqual([]);
      });
    });

    describe("events", () => {
      it("appended events get seq 1, 2, 3 … and are read back after a seq, in order, up to a limit", async () => {
        const user = await newUser();
        const thread = await newThread(user.id);
        const scope = { userId: user.id, threadId: thread.id };
        expect(await store.events.lastSeq(scope)).toBe(0);
        expect(await store.events.listAfter(scope, 0)).toEqual([]);

        const turnId = newId("turn");
        const first = await store.events.append(thread.id, [
          { turnId, at: T0, event: { type: "turn/started", turnId } },
          { turnId, at: T0 + 1, event: { type: "item/agentMessage/delta", itemId: "item_1", delta: "Hi" } },
        ]);
        const expectedFirst: EventEnvelope[] = [
          { seq: 1, threadId: thread.id, turnId, at: T0, event: { type: "turn/started", turnId } },
          {
            seq: 2,
            threadId: thread.id,
            turnId,
            at: T0 + 1,
            event: { type: "item/agentMessage/delta", itemId: "item_1", delta: "Hi" },
          },
        ];
        expect(first).toEqual(expectedFirst);
        const second = await store.events.append(thread.id, [warning("a"), warning("b"), warning("c")]);
        expect(second.map((e) => e.seq)).toEqual([3, 4, 5]);

        expect(await store.events.listAfter(scope, 0)).toEqual([...expectedFirst, ...second]);
        expect(await store.events.listAfter(scope, 2, 2)).toEqual(second.slice(0, 2));
        expect(await store.events.listAfter(scope, 5)).toEqual([]);
        expect(await store.events.lastSeq(scope)).toBe(5);
        expect((await store.threads.get(scope))?.lastSeq).toBe(5);
      });

      it("twenty concurrent appends of five events each to one thread get seqs 1 to 100 with no gaps or duplicates", async () => {
        const user = await newUser();
        const thread = await newThread(user.id);
        const batches = await Promise.all(
          Array.from({ length: 20 }, (_, b) =>
            store.events.append(
              thread.id,
              Array.from({ length: 5 }, (_, i) => warning(`batch ${b} event ${i}`)),
            ),
          ),
        );
        for (const [b, batch] of batches.entries()) {
          // Each append's events are contiguous and in the order given.
          const start = batch[0]?.seq ?? 0;
          expect(batch.map((e) => e.seq)).toEqual([start, start + 1, start + 2, start + 3, start + 4]);
          expect(batch.map((e) => (e.event.type === "warning" ? e.event.message : ""))).toEqual(
            Array.from({ length: 5 }, (_, i) => `batch ${b} event ${i}`),
          );
        }
        const stored = await store.events.listAfter({ userId: user.id, threadId: thread.id }, 0, 1000);
        expect(stored?.map((e) => e.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
        expect(stored).toEqual(batches.flat().sort((a, b) => a.seq - b.seq));
      });

      it("threads are numbered independently; appending nothing returns nothing; an unknown thread is not_found", async () => {
        const user = await newUser();
        const a = await newThread(user.id);
        const b = await newThread(user.id);
        await store.events.append(a.id, [warning("a1"), warning("a2")]);
        expect((await store.events.append(b.id, [warning("b1")])).map((e) => e.seq)).toEqual([1]);
        expect(await store.events.append(a.id, [])).toEqual([]);
        await expect(store.events.append("thr_missing", [warning("x")])).rejects.toMatchObject({
          code: "not_found",
        });
      });

      it("a large append is stored whole", async () => {
        const user = await newUser();
        const thread = await newThread(user.id);
        const events = Array.from({ length: 250 }, (_, i) => warning(`e${i}`, T0 + i));
        const stored = await store.events.append(thread.id, events);
        expect(stored.at(-1)?.seq).toBe(250);
        const read = await store.events.listAfter({ userId: user.id, threadId: thread.id }, 0, 1000);
        expect(read).toEqual(stored);
      });
    });

    describe("rollout lines", () => {
      it("lines are read back in seq order exactly as written, and a seq written twice is a conflict", async () => {
        const user = await newUser();
        const thread = await newThread(user.id);
        const turnId = newId("turn");
        const lines: RolloutLine[] = [
          { v: ROLLOUT_VERSION, seq: 1, at: T0, kind: "thread", payload: thread.info },
          {
            v: ROLLOUT_VERSION,
            seq: 2,
            at: T0 + 1,
            kind: "turn_context",
            payload: {
              turnId,
              model: "gpt-test",
              modelProvider: "openai",
              sandbox: "read-only",
              approvalPolicy: "never",
              mode: "code",
              cwd: "/work/repo",
            },
          },
          {
            v: ROLLOUT_VERSION,
            seq: 3,
            at: T0 + 2,
            kind: "history",
            payload: {
              turnId,
              item: { type: "message", role: "user", content: [{ type: "input_text", text: "hi" }] },
            },
          },
          {
            v: ROLLOUT_VERSION,
            seq: 4,
            at: T0 + 3,
            kind: "event",
            payload: {
              seq: 1,
              threadId: thread.id,
              turnId,
              at: T0 + 3,
              event: { type: "turn/started", turnId },
            },
          },
        ];
        expect(await store.rollout.lastSeq(thread.id)).toBe(0);
        await store.rollout.append(thread.id, lines.slice(0, 2));
        await store.rollout.append(thread.id, lines.slice(2));
        expect(await store.rollout.read(thread.id)).toEqual(lines);
        expect(await store.rollout.lastSeq(thread.id)).toBe(4);

        await expect(store.rollout.append(thread.id, [{ ...lines[3]!, seq: 4 }])).rejects.toMatchObject({
          code: "conflict",
        });
        expect(await store.rollout.read(thread.id)).toEqual(lines);
        expect(await store.rollout.read("thr_without_lines")).toEqual([]);
        await expect(store.rollout.append("thr_missing", [lines[0]!])).rejects.toMatchObject({
          code: "not_found",
        });
      });
    });

    describe("turns", () => {
      it("an unfinished turn is listed for resuming until it finishes, with its status and error", async () => {
        const user = await newUser();
        const thread = await newThread(user.id);
        const scope = { userId: user.id, threadId: thread.id };
        const id = newId("turn");
        const turn = await store.turns.create({ id, threadId: thread.id, status: "queued", now: T0 });
        expect(turn).toEqual({
          id,
          threadId: thread.id,
          userId: user.id,
          status: "queued",
          startedAt: T0,
          updatedAt: T0,
        });
        await expect(
          store.turns.create({ id, threadId: thread.id, status: "queued", now: T0 }),
        ).rejects.toMatchObject({ code: "conflict" });

        expect(await store.turns.setStatus(id, "waitingForApproval", T0 + 1)).toBe(true);
        const waiting = { ...turn, status: "waitingForApproval", updatedAt: T0 + 1 };
        expect((await store.turns.listUnfinished()).filter((t) => t.threadId === thread.id)).toEqual([
          waiting,
        ]);
        expect(await store.turns.listByThread(scope)).toEqual([waiting]);

        const error = { code: "model_error" as const, message: "the model failed", retryable: false };
        expect(await store.turns.markFinished(id, { status: "failed", now: T0 + 2, error })).toBe(true);
        expect(await store.turns.markFinished(id, { status: "completed", now: T0 + 3 })).toBe(false);
        expect(await store.turns.setStatus(id, "running", T0 + 3)).toBe(false);
        expect((await store.turns.listUnfinished()).filter((t) => t.threadId === thread.id)).toEqual([]);
        expect(await store.turns.listByThread(scope)).toEqual([
          { ...turn, status: "failed", updatedAt: T0 + 2, finishedAt: T0 + 2, error },
        ]);
      });

      it("a turn of an unknown thread is not_found", async () => {
        await expect(
          store.turns.create({ id: newId("turn"), threadId: "thr_missing", status: "running", now: T0 }),
        ).rejects.toMatchObject({ code: "not_found" });
      });
    });

    describe("thread inputs", () => {
      const text = (t: string) => [{ type: "text" as const, text: t }];

      it("a turn's input is taken once per key, oldest first, and a retried take with the same key answers it again", async () => {
        const user = await newUser();
        const thread = await newThread(user.id);
        const [turnA, turnB] = [newId("turn"), newId("turn")];
        const add = (turnId: string, t: string) =>
          store.threadInputs.add({ userId: user.id, threadId: thread.id, turnId, input: text(t), now: T0 });
        await add(turnA, "one");
        await add(turnA, "two");
        await add(turnB, "other turn");
        expect(await store.threadInputs.take(turnA, "k1")).toEqual([text("one"), text("two")]);
        await add(turnA, "three");
        expect(await store.threadInputs.take(turnA, "k1")).toEqual([text("one"), text("two"), text("three")]);
        expect(await store.threadInputs.take(turnA, "k2")).toEqual([]);
        const late = await add(turnA, "late");
        const later = await add(turnA, "later");
        expect(await store.threadInputs.withdraw(late)).toBe(true);
        expect(await store.threadInputs.withdraw(late)).toBe(false);
        expect(await store.threadInputs.take(turnA, "end")).toEqual([text("later")]);
        expect(await store.threadInputs.withdraw(later)).toBe(false);
        expect(await store.threadInputs.take(turnB, "k1")).toEqual([text("other turn")]);
        // A turn of the thread starts: the input of its ended turns goes.
        expect(await store.threadInputs.prune(thread.id, turnB)).toBe(4);
        expect(await store.threadInputs.take(turnA, "k1")).toEqual([]);
        expect(await store.threadInputs.take(turnB, "k1")).toEqual([text("other turn")]);
      });

      it("input for another user's thread is refused by the database", async () => {
        const [owner, other] = [await newUser(), await newUser()];
        const thread = await newThread(owner.id);
        await expect(
          store.threadInputs.add({
            userId: other.id,
            threadId: thread.id,
            turnId: newId("turn"),
            input: text("x"),
            now: T0,
          }),
        ).rejects.toThrow();
      });
    });

    describe("secrets", () => {
      it("a secret's bytes round-trip, put replaces, listing shows no bytes, and scopes are separate", async () => {
        const scope = secretScope.user(randomUUID());
        const other = secretScope.user(randomUUID());
        const secret = {
          scope,
          name: "OPENAI_API_KEY",
          ciphertext: new Uint8Array([0, 1, 2, 250, 255]),
          iv: new Uint8Array(12).fill(7),
          tag: new Uint8Array(16).fill(9),
          keyVersion: 1,
        };
        await store.secrets.put({ ...secret, now: T0 });
        await store.secrets.put({ ...secret, scope: other, ciphertext: new Uint8Array([42]), now: T0 });
        expect(await store.secrets.get(scope, "OPENAI_API_KEY")).toEqual({
          ...secret,
          createdAt: T0,
          updatedAt: T0,
        });

        const replaced = { ...secret, ciphertext: new Uint8Array([3, 4]), keyVersion: 2 };
        await store.secrets.put({ ...replaced, now: T0 + 1 });
        expect(await store.secrets.get(scope, "OPENAI_API_KEY")).toEqual({
          ...replaced,
          createdAt: T0,
          updatedAt: T0 + 1,
        });
        await store.secrets.put({ ...secret, name: "ANTHROPIC_API_KEY", now: T0 });
        expect(await store.secrets.list(scope)).toEqual([
          { scope, name: "ANTHROPIC_API_KEY", keyVersion: 1, createdAt: T0, updatedAt: T0 },
          { scope, name: "OPENAI_API_KEY", keyVersion: 2, createdAt: T0, updatedAt: T0 + 1 },
        ]);

        expect(await store.secrets.delete(scope, "OPENAI_API_KEY")).toBe(true);
        expect(await store.secrets.delete(scope, "OPENAI_API_KEY")).toBe(false);
        expect(await store.secrets.get(scope, "OPENAI_API_KEY")).toBeUndefined();
        expect((await store.secrets.get(other, "OPENAI_API_KEY"))?.ciphertext).toEqual(new Uint8Array([42]));
      });
    });

    describe("usage", () => {
      it("usage is summed per user per UTC day, and per thread and turn", async () => {
        const user = await newUser();
        const other = await newUser();
        const thread = await newThread(user.id);
        const u = (input: number, cached: number, output: number, reasoning: number) => ({
          inputTokens: input,
          cachedInputTokens: cached,
          outputTokens: output,
          reasoningOutputTokens: reasoning,
          totalTokens: input + output,
        });
        const call = (turnId: string, usage: ReturnType<typeof u>, at: number, costUsd?: number) =>
          store.usage.record({
            userId: user.id,
            threadId: thread.id,
            turnId,
            model: "gpt-test",
            usage,
            at,
            costUsd,
          });
        const day1 = Date.UTC(2026, 0, 15, 23, 59);
        const day2 = Date.UTC(2026, 0, 16, 0, 1);
        await call("turn_a", u(100, 50, 10, 5), day1, 0.25);
        await call("turn_a", u(200, 0, 20, 0), day2, 0.5);
        await call("turn_b", u(1, 0, 1, 0), day2);
        await store.usage.record({
          userId: other.id,
          threadId: "thr_theirs",
          turnId: "t",
          model: "m",
          usage: u(9, 9, 9, 9),
          at: day1,
        });

        expect(await store.usage.perDay(user.id)).toEqual([
          { day: "2026-01-15", calls: 1, usage: u(100, 50, 10, 5), costUsd: 0.25 },
          { day: "2026-01-16", calls: 2, usage: u(201, 0, 21, 0), costUsd: 0.5 },
        ]);
        expect(await store.usage.perDay(user.id, { from: "2026-01-16", to: "2026-01-16" })).toEqual([
          { day: "2026-01-16", calls: 2, usage: u(201, 0, 21, 0), costUsd: 0.5 },
        ]);
        expect(await store.usage.forThread({ userId: user.id, threadId: thread.id })).toEqual({
          total: { calls: 3, usage: u(301, 50, 31, 5), costUsd: 0.75 },
          turns: [
            { turnId: "turn_a", calls: 2, usage: u(300, 50, 30, 5), costUsd: 0.75 },
            { turnId: "turn_b", calls: 1, usage: u(1, 0, 1, 0), costUsd: 0 },
          ],
        });
        expect(await store.usage.perDay(`usr_${randomUUID()}`)).toEqual([]);
        expect(await store.usage.totalsSince(user.id, day2)).toEqual({
          calls: 2,
          usage: u(201, 0, 21, 0),
          costUsd: 0.5,
        });
        expect(await store.usage.totalsSince(user.id, day2 + 1)).toEqual({
          calls: 0,
          usage: u(0, 0, 0, 0),
          costUsd: 0,
        });
      });
    });

    describe("audit log", () => {
      it("entries are listed newest first, by user and by time, and page back by id", async () => {
        const user = await newUser();
        const login = await store.audit.append({
          userId: user.id,
          actor: user.username,
          action: "login",
          ip: "203.0.113.9",
          at: T0,
        });
        expect(login).toEqual({
          id: expect.any(Number),
          userId: user.id,
          actor: user.username,
          action: "login",
          ip: "203.0.113.9",
          at: T0,
        });
        const token = await store.audit.append({
          userId: user.id,
          actor: user.username,
          action: "token.create",
          target: "tok_1",
          at: T0 + 1,
          details: { name: "ci", scopes: ["threads:read"] },
        });
        const failed = await store.audit.append({
          actor: "unknown",
          action: "login.failed",
          ip: "198.51.100.1",
          at: T0 + 2,
        });
        expect(token.id).toBeGreaterThan(login.id);

        expect(await store.audit.list({ userId: user.id })).toEqual([token, login]);
        expect(await store.audit.list({ userId: user.id, from: T0 + 1 })).toEqual([token]);
        expect(await store.audit.list({ userId: user.id, to: T0 })).toEqual([login]);
        expect(await store.audit.list({ userId: user.id, before: token.id })).toEqual([login]);
        expect(await store.audit.list({ userId: user.id, limit: 1 })).toEqual([token]);
        expect((await store.audit.list({ from: T0 + 2, to: T0 + 2 })).map((e) => e.id)).toContain(failed.id);
      });
    });

    describe("rate limits", () => {
      it("a fixed window counts hits, starts again at 1 in the next window, and keys are independent", async () => {
        const key = `login:ip:${randomUUID()}`;
        const window = 60_000;
        const start = Math.floor(T0 / window) * window;
        expect(await store.rateLimits.hit(key, window, start + 5)).toEqual({
          count: 1,
          windowStart: start,
          resetAt: start + window,
        });
        expect((await store.rateLimits.hit(key, window, start + 10)).count).toBe(2);
        expect((await store.rateLimits.hit(key, window, start + window - 1)).count).toBe(3);
        expect((await store.rateLimits.hit(`${key}:other`, window, start + 10)).count).toBe(1);
        expect(await store.rateLimits.hit(key, window, start + window)).toEqual({
          count: 1,
          windowStart: start + window,
          resetAt: start + 2 * window,
        });
      });

      it("concurrent hits are all counted", async () => {
        const key = `api:user:${randomUUID()}`;
        const hits = await Promise.all(
          Array.from({ length: 25 }, () => store.rateLimits.hit(key, 60_000, T0)),
        );
        expect(hits.map((h) => h.count).sort((a, b) => a - b)).toEqual(
          Array.from({ length: 25 }, (_, i) => i + 1),
        );
      });

      it("old windows are pruned", async () => {
        const key = `prune:${randomUUID()}`;
        await store.rateLimits.hit(key, 1000, 5000);
        expect(await store.rateLimits.prune(6000)).toBeGreaterThanOrEqual(1);
        expect((await store.rateLimits.hit(key, 1000, 5500)).count).toBe(1);
      });
    });

    describe("transactions", () => {
      it("a transaction keeps all of its writes, or none when it throws", async () => {
        const user = await newUser();
        const kept = await store.transaction(async (tx) => {
          const thread = await tx.threads.create({
            userId: user.id,
            info: threadInfo(),
            title: "t",
            status: "idle",
            now: T0,
          });
          await tx.events.append(thread.id, [warning("in a transaction")]);
          return thread;
        });
        expect(await store.events.lastSeq({ userId: user.id, threadId: kept.id })).toBe(1);

        const info = threadInfo();
        await expect(
          store.transaction(async (tx) => {
            await tx.threads.create({ userId: user.id, info, title: "t", status: "idle", now: T0 });
            await tx.events.append(info.id, [warning("lost")]);
            throw new KilnError("invalid_request", "changed my mind");
          }),
        ).rejects.toThrow("changed my mind");
        expect(await store.threads.get({ userId: user.id, threadId: info.id })).toBeUndefined();
      });
    });
  });
}
