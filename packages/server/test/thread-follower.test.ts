import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EventEnvelope } from "@kiln/protocol";
import { type KilnStore, openStore } from "@kiln/store";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EventHub } from "../src/events/event-hub.ts";
import { type FollowEnd, ThreadFollower } from "../src/events/thread-follower.ts";

let dir: string;
let store: KilnStore;
let hub: EventHub;
const scope = { userId: "usr_1", threadId: "thr_01JBBBBBBBBBBBBBBBBBBBBBBB" };

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kiln-follower-"));
  store = await openStore({ sqlitePath: join(dir, "kiln.db") });
  hub = new EventHub();
  await store.users.create({ id: scope.userId, username: "u", role: "user", passwordHash: "x", now: 1 });
  await store.threads.create({
    userId: scope.userId,
    info: {
      id: scope.threadId,
      createdAt: 1,
      cwd: "/tmp",
      model: "m",
      modelProvider: "openai",
      sandbox: "read-only",
      approvalPolicy: "never",
      mode: "code",
      additionalDirectories: [],
    },
    title: "",
    status: "idle",
    now: 1,
  });
});
afterEach(async () => {
  hub.close();
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

/** Appends `n` warnings in one transaction and publishes them as one batch, as the executor does. */
async function emit(n: number): Promise<EventEnvelope[]> {
  const stored = await store.events.append(
    scope.threadId,
    Array.from({ length: n }, (_, i) => ({ at: i, event: { type: "warning" as const, message: `w${i}` } })),
  );
  hub.publishBatch(stored);
  return stored;
}

/** A follower whose sink records every call; `room` says whether the consumer keeps up. */
function follow(options: { after?: number; maxBuffer?: number; onOverflow?: "refetch" | "resync" } = {}) {
  const deliveries: { seqs: number[]; shared: boolean }[] = [];
  const ends: FollowEnd[] = [];
  const consumer = { room: true };
  let batches: readonly EventEnvelope[][] = [];
  const follower = new ThreadFollower({
    store,
    hub,
    scope,
    after: options.after ?? 0,
    maxBuffer: options.maxBuffer ?? 100,
    onOverflow: options.onOverflow ?? "refetch",
    sink: {
      deliver(envelopes, shared) {
        deliveries.push({ seqs: envelopes.map((e) => e.seq), shared });
        batches = [...batches, [...envelopes]];
        return consumer.room;
      },
      end: (reason) => ends.push(reason),
    },
  });
  const seqs = () => deliveries.flatMap((d) => d.seqs);
  return { follower, deliveries, ends, consumer, seqs, batches: () => batches };
}

/** Lets the follower's store read finish. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe("ThreadFollower", () => {
  it("sends the backlog after `after` as a store page, then each live batch as the hub's own array", async () => {
    await emit(3);
    const f = follow({ after: 1 });
    f.follower.start();
    await settle();
    const published = await emit(2);
    expect(f.deliveries).toEqual([
      { seqs: [2, 3], shared: false },
      { seqs: [4, 5], shared: true },
    ]);
    expect(f.batches()[1]).toEqual(published);
    expect(f.ends).toEqual([]);
  });

  it("holds live batches published while the backlog is read and sends each seq once, in order", async () => {
    await emit(2);
    const f = follow();
    f.follower.start();
    const racing = [emit(3), emit(1), emit(2)];
    await Promise.all(racing);
    await settle();
    await emit(1);
    expect(f.seqs()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("holds events while the consumer is behind and sends them in one delivery when it resumes", async () => {
    const f = follow();
    f.follower.start();
    await settle();
    f.consumer.room = false;
    await emit(2);
    await emit(1);
    await emit(3);
    expect(f.deliveries).toEqual([{ seqs: [1, 2], shared: true }]);
    f.consumer.room = true;
    f.follower.resume();
    expect(f.deliveries).toEqual([
      { seqs: [1, 2], shared: true },
      { seqs: [3, 4, 5, 6], shared: false },
    ]);
    await emit(1);
    expect(f.deliveries.at(-1)).toEqual({ seqs: [7], shared: true });
  });

  it("re-reads the store when a consumer that is behind overflows its buffer, so it misses nothing (refetch)", async () => {
    const f = follow({ maxBuffer: 3 });
    f.follower.start();
    await settle();
    f.consumer.room = false;
    await emit(1);
    for (let i = 0; i < 4; i++) await emit(2);
    expect(f.seqs()).toEqual([1]);
    f.consumer.room = true;
    f.follower.resume();
    await settle();
    await emit(1);
    expect(f.seqs()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(f.deliveries.at(-1)).toEqual({ seqs: [10], shared: true });
  });

  it("ends with a resync after the last seq it sent when a consumer that is behind overflows (resync)", async () => {
    const f = follow({ maxBuffer: 3, onOverflow: "resync" });
    f.follower.start();
    await settle();
    f.consumer.room = false;
    await emit(2);
    await emit(4);
    f.consumer.room = true;
    f.follower.resume();
    await emit(1);
    expect(f.seqs()).toEqual([1, 2]);
    expect(f.ends).toEqual([{ type: "resync", after: 2 }]);
    expect(hub.subscriberCount()).toBe(0);
  });

  it("ends as closed when the hub closes, and stop() ends it without a word to the sink", async () => {
    const closing = follow();
    const stopping = follow();
    closing.follower.start();
    stopping.follower.start();
    await settle();
    stopping.follower.stop();
    expect(hub.subscriberCount()).toBe(1);
    hub.close();
    await emit(1);
    expect([closing.ends, stopping.ends, closing.seqs(), hub.subscriberCount()]).toEqual([
      [{ type: "closed" }],
      [],
      [],
      0,
    ]);
  });

  it("ends as failed when the store cannot be read", async () => {
    const f = follow();
    await store.close();
    f.follower.start();
    await settle();
    expect(f.ends).toEqual([{ type: "failed", error: expect.any(Error) }]);
    store = await openStore({ sqlitePath: join(dir, "kiln.db") });
  });
});
