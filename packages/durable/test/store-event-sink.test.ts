// The durable event sink on a real PostgreSQL (KILN_TEST_PG_URL; skipped without it): a replay's
// events are skipped by seq, new ones follow without a gap, and a gap is refused.
import { createStoreEventSink } from "@kiln/durable";
import { type EventEnvelope, newId, type ThreadInfo } from "@kiln/protocol";
import { createPostgresTestDatabase, type KilnStore, openStore, type TestDatabase } from "@kiln/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const pgUrl = process.env.KILN_TEST_PG_URL || undefined;

describe.skipIf(pgUrl === undefined)(
  `the durable event sink on PostgreSQL${pgUrl === undefined ? " — SKIPPED: KILN_TEST_PG_URL is not set" : ""}`,
  () => {
    let db: TestDatabase;
    let store: KilnStore;
    const userId = "usr_sink";
    beforeAll(async () => {
      db = await createPostgresTestDatabase(pgUrl ?? "");
      store = await openStore(db.url);
      await store.users.create({ id: userId, username: "sink", role: "user", passwordHash: "x", now: 1 });
    });
    afterAll(async () => {
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

    const envelope = (threadId: string, seq: number, message: string): EventEnvelope => ({
      seq,
      threadId,
      turnId: "turn_x",
      at: 1000 + seq,
      event: { type: "warning", message },
    });

    it("stores a replay's events once and appends the new ones after them", async () => {
      const threadId = await newThread();
      const sink = createStoreEventSink(store, userId, threadId);
      await sink.write([1, 2, 3].map((seq) => envelope(threadId, seq, `first run ${seq}`)));
      await sink.write([2, 3, 4, 5].map((seq) => envelope(threadId, seq, `replay ${seq}`)));
      expect(await store.events.listAfter({ userId, threadId }, 0)).toEqual([
        envelope(threadId, 1, "first run 1"),
        envelope(threadId, 2, "first run 2"),
        envelope(threadId, 3, "first run 3"),
        envelope(threadId, 4, "replay 4"),
        envelope(threadId, 5, "replay 5"),
      ]);
    });

    it("refuses events that would leave a gap in the thread's seqs", async () => {
      const threadId = await newThread();
      const sink = createStoreEventSink(store, userId, threadId);
      await sink.write([envelope(threadId, 1, "one")]);
      await expect(sink.write([envelope(threadId, 3, "three")])).rejects.toMatchObject({
        code: "internal",
        message: expect.stringContaining("event seq 3 does not follow the stored 1"),
      });
      expect(await store.events.lastSeq({ userId, threadId })).toBe(1);
    });
  },
);
