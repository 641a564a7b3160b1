import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer, type TestUser } from "./server-harness.ts";
import { readSse, turnCompleted } from "./sse-client.ts";

let t: TestServer;
let alice: TestUser;

beforeAll(async () => {
  t = await startTestServer();
  alice = await t.addUser("alice");
});
afterAll(async () => {
  await t?.close();
});

describe("a turn over the native API", () => {
  it("runs a turn in a fresh workspace and streams its events over SSE; a reconnect with Last-Event-ID gets exactly the missing events", async () => {
    t.model.setScenario({
      steps: [
        { output: [{ type: "exec_command", cmd: "echo hello > out.txt && cat out.txt" }] },
        { output: [{ type: "message", text: "Wrote out.txt." }] },
      ],
    });
    const created = await t.call(alice, "POST", "/api/v1/threads", {});
    expect(created.status).toBe(201);
    const thread = created.body;
    expect(thread).toMatchObject({ title: "", status: "idle", archived: false, lastSeq: 0, turns: [] });
    expect(thread.id).toMatch(/^thr_/);
    expect(thread.info.cwd).toContain(join(t.dataDir, "workspaces"));

    const started = await t.call(alice, "POST", `/api/v1/threads/${thread.id}/turns`, {
      input: "write hello",
    });
    expect(started.status).toBe(202);
    const turnId = started.body.turnId as string;
    expect(started.body).toEqual({ id: turnId, turnId, threadId: thread.id, status: "running" });

    const first = await readSse(
      t.url,
      alice.token,
      `/api/v1/threads/${thread.id}/events`,
      turnCompleted(turnId),
    );
    expect(first.contentType).toMatch(/^text\/event-stream/);
    const seqs = first.frames.map((f) => f.envelope.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(first.frames.map((f) => f.id)).toEqual(seqs.map(String));
    expect(first.frames.every((f) => f.event === f.envelope.event.type)).toBe(true);
    const types = first.frames.map((f) => f.event);
    expect(types.slice(0, 2)).toEqual(["thread/started", "turn/started"]);
    const last = first.frames.at(-1)?.envelope.event;
    expect(last).toMatchObject({ type: "turn/completed", turnId, status: "completed" });
    expect(await readFile(join(thread.info.cwd, "out.txt"), "utf8")).toBe("hello\n");

    const middle = Math.floor(seqs.length / 2);
    const resumed = await readSse(
      t.url,
      alice.token,
      `/api/v1/threads/${thread.id}/events?after=1`,
      (f) => f.envelope.seq === seqs.length,
      { lastEventId: String(middle) },
    );
    expect(resumed.frames.map((f) => f.envelope)).toEqual(first.frames.slice(middle).map((f) => f.envelope));

    const after = await readSse(
      t.url,
      alice.token,
      `/api/v1/threads/${thread.id}/events?after=${seqs.length - 2}`,
      (f) => f.envelope.seq === seqs.length,
    );
    expect(after.frames.map((f) => f.envelope.seq)).toEqual([seqs.length - 1, seqs.length]);

    const got = await t.call(alice, "GET", `/api/v1/threads/${thread.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({
      id: thread.id,
      title: "write hello",
      status: "idle",
      lastSeq: seqs.length,
    });
    expect(got.body.turns).toEqual([
      expect.objectContaining({
        id: turnId,
        threadId: thread.id,
        status: "completed",
        finishedAt: expect.any(Number),
      }),
    ]);

    const items = await t.call(alice, "GET", `/api/v1/threads/${thread.id}/items`);
    expect(items.body.items.map((i: { item: { type: string } }) => i.item.type)).toEqual([
      "userMessage",
      "commandExecution",
      "agentMessage",
    ]);
    expect(items.body.items[1].item).toMatchObject({
      command: "echo hello > out.txt && cat out.txt",
      exitCode: 0,
    });
    expect(items.body.items[2].item).toMatchObject({ text: "Wrote out.txt." });

    const usage = await t.call(alice, "GET", "/api/v1/usage");
    expect(usage.status).toBe(200);
    expect(usage.body.total.calls).toBe(2);
    const threadUsage = await t.call(alice, "GET", `/api/v1/threads/${thread.id}/usage`);
    expect(threadUsage.body.turns).toEqual([expect.objectContaining({ turnId, calls: 2 })]);
  });

  it("keeps an idle stream open with comment lines until events come", async () => {
    t.model.setScenario({ steps: [{ output: [{ type: "message", text: "Later." }] }] });
    const thread = (await t.call(alice, "POST", "/api/v1/threads", {})).body;
    const reading = readSse(t.url, alice.token, `/api/v1/threads/${thread.id}/events`, turnCompleted());
    await new Promise((r) => setTimeout(r, 350));
    await t.call(alice, "POST", `/api/v1/threads/${thread.id}/turns`, { input: "later" });
    const { frames, comments } = await reading;
    expect(comments).toBeGreaterThanOrEqual(2);
    expect(frames[0]?.envelope.seq).toBe(1);
  });

  it("calls the model with the user's own OPENAI_API_KEY secret instead of the server's key", async () => {
    t.model.setScenario({ steps: [{ output: [{ type: "message", text: "Mine." }] }] });
    const dave = await t.addUser("dave");
    expect((await t.call(dave, "PUT", "/api/v1/secrets/OPENAI_API_KEY", { value: "sk-dave" })).status).toBe(
      200,
    );
    const thread = (await t.call(dave, "POST", "/api/v1/threads", {})).body;
    const turnId = (await t.call(dave, "POST", `/api/v1/threads/${thread.id}/turns`, { input: "whose key" }))
      .body.turnId;
    await readSse(t.url, dave.token, `/api/v1/threads/${thread.id}/events`, turnCompleted(turnId));
    expect(t.model.requests.at(-1)?.headers.authorization).toBe("Bearer sk-dave");
    const events = await t.call(dave, "GET", `/api/v1/threads/${thread.id}/items`);
    expect(JSON.stringify(events.body)).not.toContain("sk-dave");
  });
});
