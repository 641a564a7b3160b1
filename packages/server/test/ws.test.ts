import type { EventEnvelope } from "@kiln/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startTestServer, type TestServer, type TestUser } from "./server-harness.ts";
import { readSse, turnCompleted } from "./sse-client.ts";

let t: TestServer;
let alice: TestUser;
let bob: TestUser;

beforeAll(async () => {
  t = await startTestServer();
  alice = await t.addUser("alice");
  bob = await t.addUser("bob");
});
afterAll(async () => {
  await t?.close();
});

type Message = EventEnvelope | { type: string; threadId?: string; after?: number; error?: { code: string } };

function connect(
  user: TestUser,
): Promise<{ ws: WebSocket; messages: Message[]; waitFor: (p: (m: Message[]) => boolean) => Promise<void> }> {
  const ws = new WebSocket(`${t.url.replace(/^http/, "ws")}/api/v1/ws`, {
    headers: { authorization: `Bearer ${user.token}` },
  });
  const messages: Message[] = [];
  const waiters: { p: (m: Message[]) => boolean; resolve: () => void }[] = [];
  ws.on("message", (data) => {
    messages.push(JSON.parse(String(data)) as Message);
    for (const w of [...waiters]) if (w.p(messages)) w.resolve();
  });
  const waitFor = (p: (m: Message[]) => boolean) =>
    new Promise<void>((resolve, reject) => {
      if (p(messages)) return resolve();
      const timer = setTimeout(
        () => reject(new Error(`timed out; got ${JSON.stringify(messages.slice(-3))}`)),
        20_000,
      );
      waiters.push({
        p,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve({ ws, messages, waitFor }));
    ws.once("error", reject);
  });
}

const envelopesOf = (messages: Message[], threadId: string) =>
  messages.filter((m): m is EventEnvelope => "seq" in m && m.threadId === threadId);

describe("the WebSocket", () => {
  it("follows two threads from their `after`, with the backlog then live events, in order and without duplicates", async () => {
    t.model.setScenario({
      steps: [
        { output: [{ type: "message", text: "First thread." }] },
        { output: [{ type: "exec_command", cmd: "echo two" }] },
        { output: [{ type: "message", text: "Second thread." }] },
      ],
    });
    const a = (await t.call(alice, "POST", "/api/v1/threads", {})).body.id as string;
    const b = (await t.call(alice, "POST", "/api/v1/threads", {})).body.id as string;
    const aTurn = (await t.call(alice, "POST", `/api/v1/threads/${a}/turns`, { input: "one" })).body.turnId;
    const aFrames = (await readSse(t.url, alice.token, `/api/v1/threads/${a}/events`, turnCompleted(aTurn)))
      .frames;
    const aLast = aFrames.length;

    const client = await connect(alice);
    client.ws.send(JSON.stringify({ type: "subscribe", threadId: a, after: 2 }));
    client.ws.send(JSON.stringify({ type: "subscribe", threadId: b, after: 0 }));
    await client.waitFor((m) => m.filter((x) => "type" in x && x.type === "subscribed").length === 2);
    const bTurn = (await t.call(alice, "POST", `/api/v1/threads/${b}/turns`, { input: "two" })).body.turnId;
    await client.waitFor((m) =>
      envelopesOf(m, b).some((e) => e.event.type === "turn/completed" && e.event.turnId === bTurn),
    );
    await client.waitFor((m) => envelopesOf(m, a).length === aLast - 2);
    client.ws.close();

    expect(envelopesOf(client.messages, a)).toEqual(aFrames.slice(2).map((f) => f.envelope));
    const bSeqs = envelopesOf(client.messages, b).map((e) => e.seq);
    expect(bSeqs).toEqual(bSeqs.map((_, i) => i + 1));
    const bFrames = (await readSse(t.url, alice.token, `/api/v1/threads/${b}/events`, turnCompleted(bTurn)))
      .frames;
    expect(envelopesOf(client.messages, b)).toEqual(bFrames.map((f) => f.envelope));
  });

  it("answers another user's thread, a bad id and a malformed message with an error message", async () => {
    const mine = (await t.call(alice, "POST", "/api/v1/threads", {})).body.id as string;
    const client = await connect(bob);
    client.ws.send(JSON.stringify({ type: "subscribe", threadId: mine, after: 0 }));
    client.ws.send(JSON.stringify({ type: "subscribe", threadId: "thr_nope" }));
    client.ws.send("{not json");
    client.ws.send(JSON.stringify({ type: "subscribe", threadId: mine, extra: 1 }));
    await client.waitFor((m) => m.length === 4);
    client.ws.close();
    const errors = client.messages.map((m) => ("error" in m ? m.error?.code : undefined));
    // The format checks answer at once; the ownership check after a store read.
    expect(errors).toEqual(["invalid_request", "invalid_request", "invalid_request", "not_found"]);
    expect(client.messages[3]).toMatchObject({ type: "error", threadId: mine });
  });

  it("refuses the upgrade without a credential (401)", async () => {
    const ws = new WebSocket(`${t.url.replace(/^http/, "ws")}/api/v1/ws`);
    const status = await new Promise<number | undefined>((resolve) => {
      ws.once("unexpected-response", (_req, res) => resolve(res.statusCode));
      ws.once("open", () => resolve(undefined));
      ws.once("error", () => resolve(-1));
    });
    expect(status).toBe(401);
  });
});
