// The SDK against a live Kiln server (real HTTP on 127.0.0.1, real executor, fake model): threads and
// turns, a turn's event stream resumed after its connection is cut for real (a TCP proxy in between),
// and the errors a program sees.
import { createServer } from "node:net";
import { type EventEnvelope, KilnError, ThreadResource } from "@kiln/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer, type TestUser } from "../../server/test/server-harness.ts";
import {
  KilnApiError,
  KilnClient,
  KilnNetworkError,
  KilnResponseError,
  type RunResult,
} from "../src/index.ts";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.ts";

let t: TestServer;
let alice: TestUser;
let client: KilnClient;
let proxy: TcpProxy;

beforeAll(async () => {
  t = await startTestServer();
  alice = await t.addUser("alice");
  client = new KilnClient({ baseUrl: t.url, token: alice.token, userAgent: "kiln-sdk-test" });
  proxy = await startTcpProxy(t.url);
});
afterAll(async () => {
  await proxy?.close();
  await t?.close();
});

/** Reads the thread's events straight from the server (no proxy) up to `lastSeq`. */
async function eventsUpTo(threadId: string, after: number, lastSeq: number): Promise<EventEnvelope[]> {
  const all: EventEnvelope[] = [];
  for await (const envelope of client.threads.events(threadId, { after })) {
    all.push(envelope);
    if (envelope.seq >= lastSeq) break;
  }
  return all;
}

describe("threads over the SDK", () => {
  it("starts a thread and runs a turn to the scripted model's final response", async () => {
    t.model.setScenario({
      steps: [
        { output: [{ type: "exec_command", cmd: "echo hello > out.txt && cat out.txt" }] },
        { output: [{ type: "message", text: "Wrote out.txt." }] },
      ],
    });
    const thread = await client.threads.start({ title: "sdk run" });
    expect(thread.id).toMatch(/^thr_/);
    expect(thread.resource).toMatchObject({ id: thread.id, title: "sdk run", status: "idle", lastSeq: 0 });

    const result: RunResult = await thread.run("write hello");

    const usage = await client.threads.usage(thread.id);
    expect(result).toEqual({
      turnId: expect.stringMatching(/^turn_/),
      items: [
        expect.objectContaining({ type: "userMessage" }),
        expect.objectContaining({ type: "commandExecution", command: "echo hello > out.txt && cat out.txt" }),
        expect.objectContaining({ type: "agentMessage", text: "Wrote out.txt." }),
      ],
      finalResponse: "Wrote out.txt.",
      usage: usage.turns[0]?.usage,
      status: "completed",
    });
    expect(result.usage.totalTokens).toBeGreaterThan(0);
    const after = await thread.get();
    expect(after.turns).toEqual([expect.objectContaining({ id: result.turnId, status: "completed" })]);
    expect((await thread.items()).map((entry) => entry.item.type)).toEqual([
      "userMessage",
      "commandExecution",
      "agentMessage",
    ]);
  });

  it("runs a second turn and streams only that turn's events, starting after the thread's last seq", async () => {
    t.model.setScenario({
      steps: [
        { output: [{ type: "message", text: "First." }] },
        { output: [{ type: "message", text: "Second." }] },
      ],
    });
    const thread = await client.threads.start();
    expect((await thread.run("one")).finalResponse).toBe("First.");
    const lastSeq = (await thread.get()).lastSeq;
    const events: EventEnvelope[] = [];
    for await (const envelope of thread.runStreamed("two")) events.push(envelope);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => lastSeq + 1 + i));
    expect(events[0]?.event.type).toBe("turn/started");
    expect(events.at(-1)?.event).toMatchObject({ type: "turn/completed", status: "completed" });
    expect(new Set(events.map((e) => e.turnId))).toEqual(new Set([events[0]?.turnId]));
  });

  it("resumes a turn's event stream after the connection is cut twice mid-turn: every event exactly once, in order", async () => {
    t.model.setScenario({
      steps: [
        { output: [{ type: "exec_command", cmd: "echo one" }], chunkDelayMs: 10 },
        { output: [{ type: "exec_command", cmd: "echo two" }], chunkDelayMs: 10 },
        {
          output: [{ type: "message", text: "Both commands ran, and here is a long answer." }],
          chunkDelayMs: 10,
        },
      ],
    });
    const viaProxy = new KilnClient({ baseUrl: proxy.url, token: alice.token });
    const thread = await viaProxy.threads.start();
    proxy.requests.length = 0;
    // Each cut falls inside the first frame naming a command (its item/started), at two points of the
    // turn: the client holds half an event when the connection drops, and the turn goes on meanwhile.
    proxy.cutOn("echo one", "echo two");

    const seen: EventEnvelope[] = [];
    for await (const envelope of thread.runStreamed("run two commands", {
      reconnect: { initialDelayMs: 50 },
    })) {
      seen.push(envelope);
    }

    expect(proxy.cuts).toBe(2);
    const eventRequests = proxy.requests.filter((r) => r.includes("/events"));
    expect(eventRequests).toHaveLength(3);
    const afters = eventRequests.map((r) => Number(/after=(\d+)/.exec(r)?.[1]));
    expect(afters[0]).toBe(0);
    expect(afters[1]).toBeGreaterThan(afters[0] ?? 0);
    expect(afters[2]).toBeGreaterThan(afters[1] ?? 0);

    const last = seen.at(-1);
    expect(last?.event).toMatchObject({ type: "turn/completed", status: "completed" });
    expect(seen.map((e) => e.seq)).toEqual(seen.map((_, i) => i + 1));
    // Exactly what the server stored, compared envelope by envelope.
    expect(seen).toEqual(await eventsUpTo(thread.id, 0, last?.seq ?? 0));
    const items = seen.flatMap((e) => (e.event.type === "item/completed" ? [e.event.item.type] : []));
    expect(items).toEqual(["userMessage", "commandExecution", "commandExecution", "agentMessage"]);
  });

  it("abandons a connection that went silent after the idle timeout and resumes on a new one", async () => {
    t.model.setScenario({
      steps: [
        { output: [{ type: "exec_command", cmd: "echo quiet" }] },
        { output: [{ type: "message", text: "Done quietly." }] },
      ],
    });
    const viaProxy = new KilnClient({ baseUrl: proxy.url, token: alice.token });
    const thread = await viaProxy.threads.start();
    proxy.requests.length = 0;
    proxy.stallOn("echo quiet");
    // The server sends a keep-alive every 100 ms here: 400 ms of nothing means the path is dead.
    const result = await thread.run("be quiet", { reconnect: { idleTimeoutMs: 400, initialDelayMs: 50 } });
    expect(result).toMatchObject({ status: "completed", finalResponse: "Done quietly." });
    expect(proxy.requests.filter((r) => r.includes("/events"))).toHaveLength(2);
  });

  it("waits on an approval under the untrusted policy, answers it, and the turn completes", async () => {
    t.model.setScenario({
      steps: [
        { output: [{ type: "exec_command", cmd: "touch approved.txt" }] },
        { output: [{ type: "message", text: "Touched." }] },
      ],
    });
    const thread = await client.threads.start({ approvalPolicy: "untrusted" });
    const running = thread.run("touch a file");
    let pending = await client.approvals.list({ threadId: thread.id });
    while (pending.length === 0) {
      await new Promise((r) => setTimeout(r, 25));
      pending = await client.approvals.list({ threadId: thread.id });
    }
    expect(pending).toEqual([
      expect.objectContaining({
        threadId: thread.id,
        approval: expect.objectContaining({ summary: "touch approved.txt", decision: "pending" }),
      }),
    ]);
    const id = pending[0]?.id ?? "";
    expect(await client.approvals.respond(id, "approved")).toEqual({
      id,
      threadId: thread.id,
      decision: "approved",
    });
    expect(await running).toMatchObject({ status: "completed", finalResponse: "Touched." });
  });

  it("steers and interrupts a running turn: the stream ends with the turn interrupted", async () => {
    t.model.setScenario({
      steps: [{ output: [{ type: "exec_command", cmd: "sleep 20", yield_time_ms: 30_000 }] }],
    });
    const thread = await client.threads.start({ approvalPolicy: "never" });
    const seen: EventEnvelope[] = [];
    for await (const envelope of thread.runStreamed("wait")) {
      seen.push(envelope);
      const { event } = envelope;
      if (event.type === "item/started" && event.item.type === "commandExecution") {
        const turnId = envelope.turnId ?? "";
        expect(await thread.steer("hurry")).toEqual({ threadId: thread.id, turnId });
        expect(await thread.interrupt()).toEqual({ threadId: thread.id, turnId });
      }
    }
    expect(seen.at(-1)?.event).toMatchObject({ type: "turn/completed", status: "interrupted" });
    await expect(thread.interrupt()).rejects.toMatchObject({ status: 409, code: "conflict" });
  });

  it("lists threads, renames and archives one", async () => {
    const thread = await client.threads.start({ title: "to archive" });
    const renamed = await client.threads.update(thread.id, { title: "archived one", archived: true });
    expect(renamed).toMatchObject({ id: thread.id, title: "archived one", archived: true });
    const archived = await client.threads.list({ archived: true });
    expect(archived.threads.map((th) => th.id)).toEqual([thread.id]);
    const page = await client.threads.list({ limit: 1 });
    expect(page.threads).toHaveLength(1);
    expect(page.nextCursor).toEqual(expect.any(String));
  });
});

describe("errors", () => {
  it("a thread that does not exist is a KilnApiError with status 404, the server's ErrorInfo and the request id", async () => {
    const missing = "thr_00000000000000000000000000";
    const error = await client.threads.get(missing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KilnApiError);
    expect(error).toBeInstanceOf(KilnError);
    const apiError = error as KilnApiError;
    expect(apiError.status).toBe(404);
    expect(apiError.code).toBe("not_found");
    expect(apiError.info).toEqual({
      code: "not_found",
      message: `no thread ${missing}`,
      retryable: false,
      details: { field: "id" },
    });
    expect(apiError.requestId).toMatch(/^[\w.-]{8,}$/);
  });

  it("a request the server refuses as invalid is a KilnApiError with status 400 naming the field", async () => {
    const error = await client.threads.start({ colour: "blue" } as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KilnApiError);
    const apiError = error as KilnApiError;
    expect(apiError.status).toBe(400);
    expect(apiError.info.code).toBe("invalid_request");
    expect(apiError.message).toContain("colour");
    const badId = await client.threads.get("not-an-id").catch((e: unknown) => e);
    expect(badId).toMatchObject({ status: 400, info: { code: "invalid_request" } });
  });

  it("an answer that does not match the schema is a KilnResponseError naming the request and the fields", async () => {
    const error = await client.request("GET", "/usage", ThreadResource).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KilnResponseError);
    const message = (error as Error).message;
    expect(message).toContain("GET /usage");
    expect(message).toMatch(/\bid: /);
    expect(message).toMatch(/\btitle: /);
  });

  it("a server that is not there is a KilnNetworkError naming the URL", async () => {
    const port = await closedPort();
    const offline = new KilnClient({ baseUrl: `http://127.0.0.1:${port}/api/v1`, token: "x" });
    const error = await offline.usage.get().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KilnNetworkError);
    expect((error as KilnNetworkError).url).toBe(`http://127.0.0.1:${port}/api/v1/usage`);
    expect((error as Error).message).toContain(`could not reach the Kiln server at http://127.0.0.1:${port}`);
    expect((error as Error).message).toContain("ECONNREFUSED");
  });

  it("an aborted call rejects with the signal's reason, not a network error", async () => {
    const abort = new AbortController();
    const reason = new Error("user gave up");
    abort.abort(reason);
    await expect(client.usage.get({}, { signal: abort.signal })).rejects.toBe(reason);
    const thread = await client.threads.start();
    const stream = client.threads.events(thread.id, { signal: abort.signal });
    await expect(stream.next()).rejects.toBe(reason);
  });
});

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}
