import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer, type TestUser } from "./server-harness.ts";
import { readSse, turnCompleted } from "./sse-client.ts";

let t: TestServer;
let alice: TestUser;
let bob: TestUser;
let roots: string;

beforeAll(async () => {
  roots = await mkdtemp(join(tmpdir(), "kiln-roots-"));
  await mkdir(join(roots, "allowed", "repo"), { recursive: true });
  await mkdir(join(roots, "elsewhere"), { recursive: true });
  t = await startTestServer({ workspaceRoots: [join(roots, "allowed")] });
  alice = await t.addUser("alice");
  bob = await t.addUser("bob");
});
afterAll(async () => {
  await t?.close();
  await rm(roots, { recursive: true, force: true });
});

async function waitForApproval(
  user: TestUser,
): Promise<{ id: string; threadId: string; approval: { summary: string } }> {
  for (let i = 0; i < 200; i++) {
    const list = await t.call(user, "GET", "/api/v1/approvals");
    if (list.body.approvals.length > 0) return list.body.approvals[0];
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("no pending approval");
}

describe("threads, turns and approvals", () => {
  it("asks for an approval under the untrusted policy, lists it as pending, and finishes the turn once it is answered", async () => {
    t.model.setScenario({
      steps: [
        { output: [{ type: "exec_command", cmd: "touch approved.txt" }] },
        { output: [{ type: "message", text: "Done." }] },
      ],
    });
    const thread = (
      await t.call(alice, "POST", "/api/v1/threads", { approvalPolicy: "untrusted", title: "approvals" })
    ).body;
    const turnId = (
      await t.call(alice, "POST", `/api/v1/threads/${thread.id}/turns`, {
        input: [{ type: "text", text: "touch" }],
      })
    ).body.turnId;
    const pending = await waitForApproval(alice);
    expect(pending).toMatchObject({
      threadId: thread.id,
      turnId,
      approval: { summary: "touch approved.txt", decision: "pending" },
    });
    expect((await t.call(bob, "GET", "/api/v1/approvals")).body).toEqual({ approvals: [] });
    expect(
      (await t.call(bob, "POST", `/api/v1/approvals/${pending.id}`, { decision: "approved" })).status,
    ).toBe(404);

    const second = await t.call(alice, "POST", `/api/v1/threads/${thread.id}/turns`, { input: "again" });
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe("conflict");

    const answer = await t.call(alice, "POST", `/api/v1/approvals/${pending.id}`, { decision: "approved" });
    expect(answer.status).toBe(200);
    const { frames } = await readSse(
      t.url,
      alice.token,
      `/api/v1/threads/${thread.id}/events`,
      turnCompleted(turnId),
    );
    expect(frames.at(-1)?.envelope.event).toMatchObject({ status: "completed" });
    expect(
      (await t.call(alice, "POST", `/api/v1/approvals/${pending.id}`, { decision: "denied" })).status,
    ).toBe(404);
    const audit = await t.store.audit.list({ limit: 10 });
    expect(audit.find((e) => e.action === "approval.respond")).toMatchObject({
      actor: "alice",
      target: pending.id,
      details: { threadId: thread.id, turnId, decision: "approved", kind: "command" },
    });
  });

  it("interrupts a running turn, and steering or interrupting an idle thread is a conflict", async () => {
    t.model.setScenario({
      steps: [{ output: [{ type: "exec_command", cmd: "sleep 20", yield_time_ms: 30_000 }] }],
    });
    const thread = (await t.call(alice, "POST", "/api/v1/threads", { approvalPolicy: "never" })).body;
    const turnId = (await t.call(alice, "POST", `/api/v1/threads/${thread.id}/turns`, { input: "wait" })).body
      .turnId;
    await readSse(
      t.url,
      alice.token,
      `/api/v1/threads/${thread.id}/events`,
      (f) => f.envelope.event.type === "item/started" && f.envelope.event.item.type === "commandExecution",
    );
    expect(
      (await t.call(alice, "POST", `/api/v1/threads/${thread.id}/steer`, { input: "hurry" })).status,
    ).toBe(202);
    const interrupted = await t.call(alice, "POST", `/api/v1/threads/${thread.id}/interrupt`);
    expect(interrupted).toMatchObject({ status: 202, body: { threadId: thread.id, turnId } });
    const { frames } = await readSse(
      t.url,
      alice.token,
      `/api/v1/threads/${thread.id}/events`,
      turnCompleted(turnId),
    );
    expect(frames.at(-1)?.envelope.event).toMatchObject({ status: "interrupted" });
    const got = await t.call(alice, "GET", `/api/v1/threads/${thread.id}`);
    expect(got.body).toMatchObject({ status: "idle", turns: [{ id: turnId, status: "interrupted" }] });
    expect((await t.call(alice, "POST", `/api/v1/threads/${thread.id}/interrupt`)).status).toBe(409);
    expect((await t.call(alice, "POST", `/api/v1/threads/${thread.id}/steer`, { input: "x" })).status).toBe(
      409,
    );
  });

  it("hides a user's threads, events, items and turns from another user (404)", async () => {
    const thread = (await t.call(alice, "POST", "/api/v1/threads", { title: "private" })).body;
    for (const [method, path, body] of [
      ["GET", `/api/v1/threads/${thread.id}`, undefined],
      ["PATCH", `/api/v1/threads/${thread.id}`, { title: "mine" }],
      ["GET", `/api/v1/threads/${thread.id}/events`, undefined],
      ["GET", `/api/v1/threads/${thread.id}/items`, undefined],
      ["GET", `/api/v1/threads/${thread.id}/usage`, undefined],
      ["POST", `/api/v1/threads/${thread.id}/turns`, { input: "hi" }],
      ["POST", `/api/v1/threads/${thread.id}/steer`, { input: "hi" }],
      ["POST", `/api/v1/threads/${thread.id}/interrupt`, undefined],
      ["POST", `/api/v1/threads/${thread.id}/fork`, {}],
      ["POST", `/api/v1/threads/${thread.id}/rollback`, { turns: 1 }],
    ] as const) {
      const response = await t.call(bob, method, path, body);
      expect({ method, path, status: response.status, code: response.body?.error?.code }).toEqual({
        method,
        path,
        status: 404,
        code: "not_found",
      });
    }
    const list = await t.call(bob, "GET", "/api/v1/threads");
    expect(list.body.threads.map((x: { id: string }) => x.id)).not.toContain(thread.id);
    expect((await t.call(undefined, "GET", `/api/v1/threads/${thread.id}`)).status).toBe(401);
  });

  it("lists, renames, archives and forks threads with cursor pagination", async () => {
    const carol = await t.addUser("carol");
    const ids: string[] = [];
    for (const title of ["one", "two", "three"]) {
      ids.push((await t.call(carol, "POST", "/api/v1/threads", { title })).body.id);
    }
    const page1 = await t.call(carol, "GET", "/api/v1/threads?limit=2");
    expect(page1.body.threads.map((x: { title: string }) => x.title)).toEqual(["three", "two"]);
    const page2 = await t.call(carol, "GET", `/api/v1/threads?limit=2&cursor=${page1.body.nextCursor}`);
    expect(page2.body).toEqual({ threads: [expect.objectContaining({ title: "one" })] });
    const renamed = await t.call(carol, "PATCH", `/api/v1/threads/${ids[0]}`, {
      title: "first",
      archived: true,
    });
    expect(renamed.body).toMatchObject({ title: "first", archived: true });
    const archived = await t.call(carol, "GET", "/api/v1/threads?archived=true");
    expect(archived.body.threads.map((x: { id: string }) => x.id)).toEqual([ids[0]]);
    const found = await t.call(carol, "GET", "/api/v1/threads?q=TWO");
    expect(found.body.threads.map((x: { id: string }) => x.id)).toEqual([ids[1]]);
    const fork = await t.call(carol, "POST", `/api/v1/threads/${ids[1]}/fork`, {});
    expect(fork.status).toBe(201);
    expect(fork.body).toMatchObject({ title: "two (fork)", info: { parentThreadId: ids[1] } });
    const rollback = await t.call(carol, "POST", `/api/v1/threads/${ids[1]}/rollback`, { turns: 1 });
    expect(rollback.status).toBe(400);
    expect(rollback.body.error).toMatchObject({ code: "invalid_request", details: { field: "turns" } });
  });

  it("allows a cwd only under a workspace root", async () => {
    const ok = await t.call(alice, "POST", "/api/v1/threads", { cwd: join(roots, "allowed", "repo") });
    expect(ok.status).toBe(201);
    expect(ok.body.info.cwd).toBe(join(roots, "allowed", "repo"));
    const outside = await t.call(alice, "POST", "/api/v1/threads", { cwd: join(roots, "elsewhere") });
    expect(outside.status).toBe(403);
    expect(outside.body.error).toMatchObject({ code: "forbidden", details: { field: "cwd" } });
    const dotdot = await t.call(alice, "POST", "/api/v1/threads", {
      cwd: join(roots, "allowed", "..", "elsewhere"),
    });
    expect(dotdot.status).toBe(403);
    const missing = await t.call(alice, "POST", "/api/v1/threads", { cwd: join(roots, "allowed", "nope") });
    expect(missing.status).toBe(400);
  });
});
