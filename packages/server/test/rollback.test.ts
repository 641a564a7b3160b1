// POST /threads/{id}/rollback over real HTTP: the model forgets the last turns (files stay), the
// rollback shows on the event stream as a warning, and a running turn, a count out of range and
// another user's thread are refused.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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

const reply = (text: string) => ({ output: [{ type: "message" as const, text }] });

/** Runs one turn on the thread as `user` and waits for its end; returns the turn's id. */
async function runTurn(user: TestUser, threadId: string, input: string): Promise<string> {
  const started = await t.call(user, "POST", `/api/v1/threads/${threadId}/turns`, { input });
  expect(started.status).toBe(202);
  const turnId = started.body.turnId as string;
  await readSse(t.url, user.token, `/api/v1/threads/${threadId}/events`, turnCompleted(turnId));
  return turnId;
}

/** The texts of the last model request's messages of `role`. */
function lastRequestMessages(role: string): string[] {
  const body = t.model.requests.at(-1)?.body as {
    input: { type: string; role?: string; content?: { text?: string }[] }[];
  };
  return body.input
    .filter((i) => i.type === "message" && i.role === role)
    .map((i) => i.content?.map((c) => c.text ?? "").join("") ?? "");
}

describe("POST /api/v1/threads/{id}/rollback", () => {
  it("drops the last two of three turns: 200 with the thread, a warning on the stream, and the next request holds turn 1 only", async () => {
    t.model.setScenario({
      steps: [
        reply("one"),
        { output: [{ type: "exec_command", cmd: "echo kept > made-in-turn-2.txt" }] },
        reply("two"),
        reply("three"),
        reply("four"),
      ],
    });
    const thread = (await t.call(alice, "POST", "/api/v1/threads", { approvalPolicy: "never" })).body;
    const ids = [];
    for (const prompt of ["first prompt", "second prompt", "third prompt"])
      ids.push(await runTurn(alice, thread.id, prompt));

    const rolled = await t.call(alice, "POST", `/api/v1/threads/${thread.id}/rollback`, { turns: 2 });
    expect(rolled.status).toBe(200);
    // The turns stay listed (their events stay too): only the model's history forgets them.
    expect(rolled.body).toMatchObject({
      id: thread.id,
      status: "idle",
      turns: ids.map((id) => ({ id, status: "completed" })),
    });
    const { frames } = await readSse(
      t.url,
      alice.token,
      `/api/v1/threads/${thread.id}/events`,
      (f) => f.envelope.event.type === "warning",
    );
    const warning = frames.at(-1)?.envelope;
    expect(warning).toEqual({
      seq: rolled.body.lastSeq,
      threadId: thread.id,
      at: expect.any(Number),
      event: {
        type: "warning",
        message: `Rolled back 2 turns (${ids[1]}, ${ids[2]}): the model no longer sees them. Files changed on disk were not reverted.`,
      },
    });

    await runTurn(alice, thread.id, "fourth prompt");
    expect(lastRequestMessages("user").slice(-2)).toEqual(["first prompt", "fourth prompt"]);
    expect(lastRequestMessages("assistant")).toEqual(["one"]);
    expect(JSON.stringify(t.model.requests.at(-1)?.body)).not.toMatch(/second prompt|third prompt/);
    expect(await readFile(join(thread.info.cwd, "made-in-turn-2.txt"), "utf8")).toBe("kept\n");
  });

  it("answers 409 while a turn runs and 400 naming turns when the count is out of range", async () => {
    t.model.setScenario({
      steps: [reply("one"), { output: [{ type: "exec_command", cmd: "sleep 10", yield_time_ms: 20_000 }] }],
    });
    const thread = (await t.call(alice, "POST", "/api/v1/threads", { approvalPolicy: "never" })).body;
    const path = `/api/v1/threads/${thread.id}/rollback`;
    const none = await t.call(alice, "POST", path, { turns: 1 });
    expect(none.status).toBe(400);
    expect(none.body.error).toEqual({
      code: "invalid_request",
      message: "cannot roll back 1 turn: the thread has 0 turns; it has no turns to roll back",
      retryable: false,
      details: { field: "turns", turns: 0 },
    });
    await runTurn(alice, thread.id, "first prompt");
    const tooMany = await t.call(alice, "POST", path, { turns: 2 });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error).toMatchObject({
      code: "invalid_request",
      message: "cannot roll back 2 turns: the thread has 1 turn; give 1 to 1",
      details: { field: "turns", turns: 1 },
    });
    const zero = await t.call(alice, "POST", path, { turns: 0 });
    expect(zero.status).toBe(400);
    expect(zero.body.error.details).toMatchObject({ field: "turns" });

    const turnId = (
      await t.call(alice, "POST", `/api/v1/threads/${thread.id}/turns`, { input: "second prompt" })
    ).body.turnId as string;
    await readSse(t.url, alice.token, `/api/v1/threads/${thread.id}/events`, (f) => {
      const e = f.envelope.event;
      return e.type === "item/started" && e.item.type === "commandExecution";
    });
    const running = await t.call(alice, "POST", path, { turns: 1 });
    expect(running.status).toBe(409);
    expect(running.body.error).toMatchObject({
      code: "conflict",
      message: expect.stringMatching(/running turn/),
    });
    await t.call(alice, "POST", `/api/v1/threads/${thread.id}/interrupt`);
    await readSse(t.url, alice.token, `/api/v1/threads/${thread.id}/events`, turnCompleted(turnId));
    const after = await t.call(alice, "POST", path, { turns: 1 });
    expect(after.status).toBe(200);
  });

  it("answers 404 for another user's thread and leaves it alone", async () => {
    t.model.setScenario({ steps: [reply("one")] });
    const thread = (await t.call(alice, "POST", "/api/v1/threads", {})).body;
    await runTurn(alice, thread.id, "first prompt");
    const before = (await t.call(alice, "GET", `/api/v1/threads/${thread.id}`)).body;
    const response = await t.call(bob, "POST", `/api/v1/threads/${thread.id}/rollback`, { turns: 1 });
    expect(response.status).toBe(404);
    expect(response.body.error).toMatchObject({ code: "not_found", details: { field: "id" } });
    expect((await t.call(alice, "GET", `/api/v1/threads/${thread.id}`)).body).toEqual(before);
  });
});
