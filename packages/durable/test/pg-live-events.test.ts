// Events from a worker's sink to an API node's hub through a real PostgreSQL (KILN_TEST_PG_URL;
// skipped without it): NOTIFY per stored batch, LISTEN + the event table on the API node, and the
// polling fallback when LISTEN cannot be had. The hub and relay are @kiln/server's own.
import {
  createPgEventNotifier,
  createStoreEventSink,
  type EventNotifier,
  startPgLiveEvents,
} from "@kiln/durable";
import { type EventEnvelope, newId, type ThreadInfo } from "@kiln/protocol";
import { createStoreRelay, EventHub } from "@kiln/server";
import { createPostgresTestDatabase, type KilnStore, openStore, type TestDatabase } from "@kiln/store";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const pgUrl = process.env.KILN_TEST_PG_URL || undefined;

describe.skipIf(pgUrl === undefined)(
  `live events through PostgreSQL${pgUrl === undefined ? " — SKIPPED: KILN_TEST_PG_URL is not set" : ""}`,
  () => {
    let db: TestDatabase;
    let store: KilnStore;
    let notifier: EventNotifier;
    const userId = "usr_live";
    beforeAll(async () => {
      db = await createPostgresTestDatabase(pgUrl ?? "");
      store = await openStore(db.url);
      notifier = createPgEventNotifier(db.url);
      await store.users.create({ id: userId, username: "live", role: "user", passwordHash: "x", now: 1 });
    });
    afterAll(async () => {
      await notifier?.close();
      await store?.close();
      await db?.drop();
    });

    async function newThread(): Promise<string> {
      const info: ThreadInfo = {
        id: newId("thr"),
        createdAt: 1,
        cwd: "/w",
        model: "m",
        modelProvider: "openai",
        sandbox: "workspace-write",
        approvalPolicy: "never",
        mode: "code",
        additionalDirectories: [],
      };
      await store.threads.create({ userId, info, title: "t", status: "idle", now: 1 });
      return info.id;
    }

    const envelope = (threadId: string, seq: number): EventEnvelope => ({
      seq,
      threadId,
      turnId: "turn_x",
      at: 1000 + seq,
      event: { type: "warning", message: `event ${seq}` },
    });

    async function until(check: () => boolean): Promise<void> {
      const deadline = Date.now() + 5_000;
      while (!check()) {
        if (Date.now() > deadline) throw new Error("timed out");
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }

    it("publishes a worker's stored batches into the API node's hub through LISTEN/NOTIFY, in order", async () => {
      const threadId = await newThread();
      const hub = new EventHub();
      const live = await startPgLiveEvents({
        url: db.url,
        store,
        relay: createStoreRelay(store, hub),
        followed: () => hub.subscribedThreads(),
        // No poll within the test: what arrives came through NOTIFY.
        pollMs: 60_000,
      });
      try {
        expect(live.listening).toBe(true);
        const sink = createStoreEventSink(store, userId, threadId, notifier);
        const received: EventEnvelope[] = [];
        hub.subscribe(threadId, (e) => received.push(e));
        await sink.write([1, 2].map((seq) => envelope(threadId, seq)));
        await sink.write([3, 4, 5].map((seq) => envelope(threadId, seq)));
        await sink.write([envelope(threadId, 6)]);
        await until(() => received.length >= 6);
        expect(received).toEqual([1, 2, 3, 4, 5, 6].map((seq) => envelope(threadId, seq)));
      } finally {
        await live.close();
      }
    });

    it("catches up on what was stored while its LISTEN connection was gone, once it is back", async () => {
      const threadId = await newThread();
      const hub = new EventHub();
      const degraded: unknown[] = [];
      const live = await startPgLiveEvents({
        url: db.url,
        store,
        relay: createStoreRelay(store, hub),
        followed: () => hub.subscribedThreads(),
        pollMs: 60_000,
        onDegraded: (error) => degraded.push(error),
      });
      const admin = new pg.Client({ connectionString: db.url });
      await admin.connect();
      try {
        const received: EventEnvelope[] = [];
        hub.subscribe(threadId, (e) => received.push(e));
        const sink = createStoreEventSink(store, userId, threadId, notifier);
        await sink.write([envelope(threadId, 1)]);
        await until(() => received.length >= 1);
        // PostgreSQL drops the listener's connection (a restart, a failover, a proxy timeout).
        await admin.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1 AND datname = current_database()",
          ["LISTEN kiln_events"],
        );
        await until(() => !live.listening);
        await sink.write([2, 3].map((seq) => envelope(threadId, seq)));
        await until(() => live.listening && received.length >= 3);
        expect(received).toEqual([1, 2, 3].map((seq) => envelope(threadId, seq)));
        expect(degraded.length).toBeGreaterThan(0);
      } finally {
        await admin.end();
        await live.close();
      }
    });

    it("polls the followed threads of an unfinished turn when LISTEN cannot be had", async () => {
      const threadId = await newThread();
      await store.turns.create({ id: newId("turn"), threadId, status: "running", now: 1 });
      const hub = new EventHub();
      const degraded: unknown[] = [];
      const live = await startPgLiveEvents({
        url: "postgres://kiln@127.0.0.1:1/nowhere",
        store,
        relay: createStoreRelay(store, hub),
        followed: () => hub.subscribedThreads(),
        pollMs: 20,
        onDegraded: (error) => degraded.push(error),
      });
      try {
        expect(live.listening).toBe(false);
        expect(degraded.length).toBeGreaterThan(0);
        const received: EventEnvelope[] = [];
        hub.subscribe(threadId, (e) => received.push(e));
        // No notifier: only the poll can find these.
        await createStoreEventSink(store, userId, threadId).write(
          [1, 2, 3].map((seq) => envelope(threadId, seq)),
        );
        await until(() => received.length >= 3);
        expect(received).toEqual([1, 2, 3].map((seq) => envelope(threadId, seq)));
      } finally {
        await live.close();
      }
    });
  },
);
