// The SSE route's flow: what a caught-up client gets per published batch, and what happens to a client
// that stops reading. Events are appended to the real store and published on the server's real hub,
// as the executor does, so that the test controls batches and sizes. The body is read through the
// app itself (the web-stream path: no socket buffer hides that the client is not reading) and over
// real HTTP (the path that writes to the Node response directly).
import { request } from "node:http";
import type { EventEnvelope } from "@kiln/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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

/** Stores `n` warnings of `size` characters in one transaction and publishes them as one batch. */
async function emit(threadId: string, n: number, size = 10): Promise<EventEnvelope[]> {
  const stored = await t.store.events.append(
    threadId,
    Array.from({ length: n }, (_, i) => ({
      at: 1,
      event: { type: "warning" as const, message: `${i}`.padEnd(size, ".") },
    })),
  );
  t.server.hub.publishBatch(stored);
  return stored;
}

/** Opens the thread's event stream through the app and returns its body's reader. */
async function open(threadId: string): Promise<ReadableStreamDefaultReader<Uint8Array>> {
  const response = await t.server.app.request(`/api/v1/threads/${threadId}/events`, {
    headers: { authorization: `Bearer ${alice.token}` },
  });
  expect([response.status, response.headers.get("content-type")]).toEqual([200, "text/event-stream"]);
  if (response.body === null) throw new Error("no body");
  return response.body.getReader();
}

/** Reads chunks until the text holds an event with seq `last`; returns the text of each chunk. */
async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, last: number): Promise<string[]> {
  const decoder = new TextDecoder();
  const chunks: string[] = [];
  while (!chunks.join("").includes(`id: ${last}\n`)) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`the stream ended before seq ${last}`);
    chunks.push(decoder.decode(value, { stream: true }));
  }
  return chunks;
}

/** The seqs of the event frames in `text` (comment lines left out). */
const seqsIn = (text: string) => [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));

describe("the SSE event stream", () => {
  it("writes each published batch to a caught-up client as one chunk of frames", async () => {
    const thread = (await t.call(alice, "POST", "/api/v1/threads", {})).body;
    const reader = await open(thread.id);
    await emit(thread.id, 1);
    expect(seqsIn((await readUntil(reader, 1)).join(""))).toEqual([1]);
    const batch = await emit(thread.id, 3);
    const chunks = await readUntil(reader, 4);
    expect(chunks.filter((c) => !c.startsWith(":"))).toEqual([
      batch.map((e) => `id: ${e.seq}\nevent: warning\ndata: ${JSON.stringify(e)}\n\n`).join(""),
    ]);
    await reader.cancel();
  });

  it("lets a client that stops reading fall far behind without holding up the publisher, then sends it every event once, in order", async () => {
    const thread = (await t.call(alice, "POST", "/api/v1/threads", {})).body;
    const reader = await open(thread.id);
    const reading = t.server.hub.subscriberCount();
    // 80 events of 20 KB, two per batch: well past the stream's queue and the 4 events it may hold.
    for (let i = 0; i < 40; i++) await emit(thread.id, 2, 20_000);
    const text = (await readUntil(reader, 80)).join("");
    expect(seqsIn(text)).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
    await emit(thread.id, 1);
    expect(seqsIn((await readUntil(reader, 81)).join(""))).toEqual([81]);
    await reader.cancel();
    expect(t.server.hub.subscriberCount()).toBe(reading - 1);
  });

  it("resumes after Last-Event-ID from the store, then goes on live", async () => {
    const thread = (await t.call(alice, "POST", "/api/v1/threads", {})).body;
    await emit(thread.id, 5);
    const response = await t.server.app.request(`/api/v1/threads/${thread.id}/events?after=1`, {
      headers: { authorization: `Bearer ${alice.token}`, "last-event-id": "3" },
    });
    const reader = response.body?.getReader();
    if (reader === undefined) throw new Error("no body");
    expect(seqsIn((await readUntil(reader, 5)).join(""))).toEqual([4, 5]);
    await emit(thread.id, 2);
    expect(seqsIn((await readUntil(reader, 7)).join(""))).toEqual([6, 7]);
    await reader.cancel();
  });

  it("over HTTP, lets a client that stops reading fall far behind, then sends it every event once, in order", async () => {
    const thread = (await t.call(alice, "POST", "/api/v1/threads", {})).body;
    const response = await new Promise<import("node:http").IncomingMessage>((resolve, reject) => {
      request(`${t.url}/api/v1/threads/${thread.id}/events`, {
        headers: { authorization: `Bearer ${alice.token}` },
      })
        .on("response", resolve)
        .on("error", reject)
        .end();
    });
    response.pause();
    // 24 MB in 600 batches: more than loopback's socket buffers hold, so the server's writes back up.
    for (let i = 0; i < 600; i++) await emit(thread.id, 2, 20_000);
    const seqs: number[] = [];
    let text = "";
    response.setEncoding("utf8");
    await new Promise<void>((resolve) => {
      response.on("data", (chunk: string) => {
        text += chunk;
        const end = text.lastIndexOf("\n\n");
        if (end === -1) return;
        seqs.push(...seqsIn(text.slice(0, end + 2)));
        text = text.slice(end + 2);
        if (seqs.at(-1) === 1200) resolve();
      });
      response.resume();
    });
    expect(seqs).toEqual(Array.from({ length: 1200 }, (_, i) => i + 1));
    response.destroy();
  });
});
