// What the authorization matrix (authz-matrix.test.ts) is about: user A's objects — a thread waiting
// for an approval, API tokens, secrets, an environment from a local git repository, a completed
// best-of-2 task with its attempts, sandboxes and turns, and capability tokens of both sandboxes — and
// the shape of one route's case, as user B calls it with A's ids.
import type { EventEnvelope } from "@kiln/protocol";
import { createTempGitRepo, type TempGitRepo } from "@kiln/test-support";
import { expect } from "vitest";
import WebSocket from "ws";
import { ACCESS_TOKEN_TTL_MS } from "../src/auth/index.ts";
import type { ServerFixture } from "./server-fixture.ts";
import { type ApiResponse, callApi, signIn, type TestUser } from "./server-harness.ts";

/** The forge repository of A's environment (what the WHAM by-repo route looks up). */
export const ALICE_FORGE = { provider: "github", owner: "acme", repo: "widgets" } as const;

/** What user A owns. */
export interface World {
  aliceId: string;
  threadId: string;
  threadTitle: string;
  approvalId: string;
  tokenId: string;
  /** A's API token `tokenId` (B's DELETE must leave it working). */
  apiToken: string;
  /** A secret B also sends a PUT for (B gets a secret of their own by that name). */
  secretName: string;
  secretUpdatedAt: number;
  /** A secret only A has. */
  onlySecretName: string;
  revokedToken: string;
  expiredToken: string;
  /** The local git repository of A's environment. */
  repo: TempGitRepo;
  envId: string;
  envName: string;
  /** A's completed best-of-2 task. */
  taskId: string;
  taskTitle: string;
  /** Attempt 0 of the task, its sandbox and its assistant turn. */
  attemptId: string;
  sandboxId: string;
  turnId: string;
  /** Attempt 1's sandbox. */
  otherSandboxId: string;
  /** A capability token of `sandboxId`. */
  sandboxToken: string;
  /** A capability token of `otherSandboxId`. */
  otherSandboxToken: string;
}

/** Who calls, and what A owns. */
export interface Context {
  t: ServerFixture;
  alice: TestUser;
  bob: TestUser;
  w: World;
}

/** A route as user B calls it, and what B must see. */
export interface Case {
  /** The path's `{param}` values (A's ids). */
  values?: (w: World) => Record<string, string>;
  /** A query string to add (without `?`). */
  query?: string;
  body?: unknown;
  /** The body, when it holds A's ids. */
  bodyOf?: (w: World) => unknown;
  /** Checks B's response (and, where it matters, that A's object is unchanged). */
  asOtherUser(response: ApiResponse, ctx: Context): Promise<void> | void;
}

/** Checks a 404 `not_found`. */
export const expectNotFound = (response: ApiResponse) =>
  expect({ status: response.status, code: response.body?.error?.code }).toEqual({
    status: 404,
    code: "not_found",
  });

/** Checks a 403 `forbidden`. */
export const expectForbidden = (response: ApiResponse) =>
  expect({ status: response.status, code: response.body?.error?.code }).toEqual({
    status: 403,
    code: "forbidden",
  });

/** Polls `GET /api/v1/tasks/{id}` until the task has ended. */
export async function waitForTask(t: ServerFixture, user: TestUser, id: string) {
  for (let i = 0; i < 400; i++) {
    const task = (await t.call(user, "GET", `/api/v1/tasks/${id}`)).body;
    if (["completed", "failed", "cancelled"].includes(task.status)) return task;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`task ${id} did not end`);
}

/** Signs A in, starts A's turn up to its approval, makes A's tokens, secrets, environment and task. */
export async function aliceWorld(t: ServerFixture, alice: TestUser): Promise<World> {
  const me = (await t.call(alice, "GET", "/api/v1/auth/me")).body.user;
  const threadTitle = "alice-private-thread";
  const thread = (
    await t.call(alice, "POST", "/api/v1/threads", { approvalPolicy: "untrusted", title: threadTitle })
  ).body;
  expect((await t.call(alice, "POST", `/api/v1/threads/${thread.id}/turns`, { input: "touch" })).status).toBe(
    202,
  );
  let approvalId: string | undefined;
  for (let i = 0; i < 200 && approvalId === undefined; i++) {
    approvalId = (await t.call(alice, "GET", "/api/v1/approvals")).body.approvals[0]?.id;
    if (approvalId === undefined) await new Promise((r) => setTimeout(r, 50));
  }
  if (approvalId === undefined) throw new Error("A's turn never asked for its approval");

  const token = (
    await t.call(alice, "POST", "/api/v1/tokens", { name: "alice's", scopes: ["read", "write"] })
  ).body;
  const revoked = (await t.call(alice, "POST", "/api/v1/tokens", { name: "revoked" })).body;
  expect((await callApi(t.url, revoked.token, "GET", "/api/v1/auth/me")).status).toBe(200);
  expect((await t.call(alice, "DELETE", `/api/v1/tokens/${revoked.id}`)).status).toBe(204);

  // An access token signed 16 minutes ago: valid then, expired now.
  t.setClockSkew(-(ACCESS_TOKEN_TTL_MS + 60_000));
  const expired = await signIn(t.url, "alice", "alice-password");
  expect((await callApi(t.url, expired.token, "GET", "/api/v1/auth/me")).status).toBe(200);
  t.setClockSkew(0);

  const secret = (await t.call(alice, "PUT", "/api/v1/secrets/ALICE_SECRET", { value: "alice's value" }))
    .body;
  await t.call(alice, "PUT", "/api/v1/secrets/ALICE_ONLY_SECRET", { value: "alice's other value" });

  const repo = await createTempGitRepo({ "README.md": "alice's project\n" });
  const envName = "alice-private-env";
  const env = await t.call(alice, "POST", "/api/v1/environments", {
    name: envName,
    repository: repo.dir,
    forge: { kind: ALICE_FORGE.provider, repo: `${ALICE_FORGE.owner}/${ALICE_FORGE.repo}` },
  });
  expect(env.status).toBe(201);
  // A's approval-waiting thread has used its steps: the task's two attempts get one each.
  t.model.setScenario({ steps: [{ output: [{ type: "message", text: "done" }], repeat: 2 }] });
  const taskTitle = "alice-private-task";
  const created = await t.call(alice, "POST", "/api/v1/tasks", {
    environmentId: env.body.id,
    prompt: taskTitle,
    bestOfN: 2,
  });
  expect(created.status).toBe(201);
  const task = await waitForTask(t, alice, created.body.id);
  expect({ status: task.status, title: task.title, attempts: task.attempts.length }).toEqual({
    status: "completed",
    title: taskTitle,
    attempts: 2,
  });
  const [first, second] = task.attempts;
  const sandboxToken = async (sandboxId: string): Promise<string> =>
    (await t.call(alice, "POST", `/api/v1/sandboxes/${sandboxId}/tokens`)).body.token;
  return {
    aliceId: me.id,
    threadId: thread.id,
    threadTitle,
    approvalId,
    tokenId: token.id,
    apiToken: token.token,
    secretName: "ALICE_SECRET",
    secretUpdatedAt: secret.updatedAt,
    onlySecretName: "ALICE_ONLY_SECRET",
    revokedToken: revoked.token,
    expiredToken: expired.token,
    repo,
    envId: env.body.id,
    envName,
    taskId: task.id,
    taskTitle,
    attemptId: first.id,
    sandboxId: first.sandboxId,
    turnId: first.turns[0].id,
    otherSandboxId: second.sandboxId,
    sandboxToken: await sandboxToken(first.sandboxId),
    otherSandboxToken: await sandboxToken(second.sandboxId),
  };
}

/** The status of a WebSocket upgrade of `path` with `token` as a bearer token (101 when it opens). */
export function wsUpgradeStatus(url: string, token: string | undefined, path: string): Promise<number> {
  const ws = new WebSocket(`${url.replace(/^http/, "ws")}${path}`, {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
  return new Promise((resolve) => {
    ws.once("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? -1);
      ws.terminate();
    });
    ws.once("open", () => {
      resolve(101);
      ws.close();
    });
    ws.once("error", () => resolve(-1));
  });
}

/** Subscribes to `threadId` from 0 over the WebSocket; the first answer and whatever follows it
 *  within 200 ms. */
export async function subscribeOverWs(
  url: string,
  token: string,
  threadId: string,
): Promise<(EventEnvelope | { type: string })[]> {
  const ws = new WebSocket(`${url.replace(/^http/, "ws")}/api/v1/ws`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const messages: (EventEnvelope | { type: string })[] = [];
  const first = new Promise<void>((resolve) => {
    ws.on("message", (data) => {
      messages.push(JSON.parse(String(data)));
      resolve();
    });
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  ws.send(JSON.stringify({ type: "subscribe", threadId, after: 0 }));
  await first;
  await new Promise((r) => setTimeout(r, 200));
  ws.close();
  return messages;
}
