import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EventEnvelope } from "@kiln/protocol";
import { type KilnStore, openStore } from "@kiln/store";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EventHub } from "../src/events/event-hub.ts";
import { type FollowItem, followThread } from "../src/events/follow-thread.ts";

let dir: string;
let store: KilnStore;
let hub: EventHub;
const scope = { userId: "usr_1", threadId: "thr_01JAAAAAAAAAAAAAAAAAAAAAAA" };

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kiln-follow-"));
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

/** Appends `n` warnings and publishes them, as the executor does. */
async function emit(n: number): Promise<EventEnvelope[]> {
  const stored = await store.events.append(
    scope.threadId,
    Array.from({ length: n }, (_, i) => ({ at: i, event: { type: "warning" as const, message: `w${i}` } })),
  );
  for (const e of stored) hub.publish(e);
  return stored;
}

const seqOf = (item: FollowItem | undefined) => (item?.type === "event" ? item.envelope.seq : item);

describe("followThread", () => {
  it("sends a slow consumer a resync (with the last seq it got) when its live buffer overflows", async () => {
    await emit(3);
    const abort = new AbortController();
    const follow = followThread({
      store,
      hub,
      scope,
      after: 0,
      signal: abort.signal,
      maxBuffer: 2,
      onOverflow: "resync",
    });
    expect(seqOf((await follow.next()).value)).toBe(1);
    await emit(5);
    const rest: unknown[] = [];
    for await (const item of follow) rest.push(seqOf(item));
    expect(rest).toEqual([2, 3, { type: "resync", after: 3 }]);
  });

  it("re-reads the store instead when asked to refetch, so the consumer misses nothing", async () => {
    await emit(3);
    const abort = new AbortController();
    const follow = followThread({
      store,
      hub,
      scope,
      after: 0,
      signal: abort.signal,
      maxBuffer: 2,
      onOverflow: "refetch",
    });
    expect(seqOf((await follow.next()).value)).toBe(1);
    await emit(5);
    const rest: unknown[] = [];
    for await (const item of follow) {
      rest.push(seqOf(item));
      if (rest.length === 7) abort.abort();
    }
    expect(rest).toEqual([2, 3, 4, 5, 6, 7, 8]);
  });

  it("goes on with live events after the backlog and ends when the hub closes", async () => {
    await emit(1);
    const follow = followThread({
      store,
      hub,
      scope,
      after: 0,
      signal: new AbortController().signal,
      maxBuffer: 10,
      onOverflow: "resync",
    });
    expect(seqOf((await follow.next()).value)).toBe(1);
    const next = follow.next();
    await emit(2);
    expect(seqOf((await next).value)).toBe(2);
    expect(seqOf((await follow.next()).value)).toBe(3);
    const end = follow.next();
    hub.close();
    expect((await end).done).toBe(true);
  });
});
