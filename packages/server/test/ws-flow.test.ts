// The WebSocket's flow control with a client that stops reading: events are appended to the real store
// and published on the server's real hub (as the executor does) so that the test controls their size;
// the client pauses its socket, so the server's send buffer really fills.
import type { EventEnvelope } from "@kiln/protocol";
import { afterAll, beforeAll, expect, it } from "vitest";
import WebSocket from "ws";
import { startTestServer, type TestServer, type TestUser } from "./server-harness.ts";

let t: TestServer;
let alice: TestUser;

beforeAll(async () => {
  t = await startTestServer({ subscriberBuffer: 4 });
  alice = await t.addUser("alice");
});
afterAll(async () => {
  await t?.close();
});

type Message = EventEnvelope | { type: "subscribed" | "resync"; threadId: string; after: number };

/** Stores `n` warnings of `size` characters in one transaction and publishes them as one batch. */
async function emit(threadId: string, n: number, size: number): Promise<void> {
  const stored = await t.store.events.append(
    threadId,
    Array.from({ length: n }, (_, i) => ({
      at: 1,
      event: { type: "warning" as const, message: `${i}`.padEnd(size, ".") },
    })),
  );
  t.server.hub.publishBatch(stored);
}

it("resyncs a WebSocket client that stopped reading after the last event it was sent, and a new subscription from there gets the rest", async () => {
  const thread = (await t.call(alice, "POST", "/api/v1/threads", {})).body;
  const ws = new WebSocket(`${t.url.replace(/^http/, "ws")}/api/v1/ws`, {
    headers: { authorization: `Bearer ${alice.token}` },
  });
  const messages: Message[] = [];
  let changed: () => void = () => undefined;
  ws.on("message", (data) => {
    messages.push(JSON.parse(String(data)) as Message);
    changed();
  });
  const waitFor = (done: () => boolean) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out at ${messages.length} messages`)), 20_000);
      changed = () => {
        if (!done()) return;
        clearTimeout(timer);
        resolve();
      };
      changed();
    });
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  ws.send(JSON.stringify({ type: "subscribe", threadId: thread.id, after: 0 }));
  await waitFor(() => messages.length === 1);

  ws.pause();
  // 24 MB in 600 batches: more than loopback's socket buffers hold, so the server's send buffer fills.
  for (let i = 0; i < 600; i++) await emit(thread.id, 2, 20_000);
  ws.resume();
  await waitFor(() => messages.some((m) => "type" in m && m.type === "resync"));
  const seqs = messages.flatMap((m) => ("seq" in m ? [m.seq] : []));
  const resync = messages.at(-1);
  expect([messages[0], resync]).toEqual([
    { type: "subscribed", threadId: thread.id, after: 0 },
    { type: "resync", threadId: thread.id, after: seqs.length },
  ]);
  expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
  expect(seqs.length).toBeLessThan(1200);

  ws.send(JSON.stringify({ type: "subscribe", threadId: thread.id, after: seqs.length }));
  await waitFor(() => messages.some((m) => "seq" in m && m.seq === 1200));
  const all = messages.flatMap((m) => ("seq" in m ? [m.seq] : []));
  expect(all).toEqual(Array.from({ length: 1200 }, (_, i) => i + 1));
  ws.terminate();
});
