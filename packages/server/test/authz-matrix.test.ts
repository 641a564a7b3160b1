// The authorization matrix, over every route of the committed OpenAPI document. User A owns a
// thread whose turn waits for an approval, an API token, two secrets, an environment and a completed
// best-of-2 task with its sandboxes (authz-world.ts); user B (not an admin) calls every route with
// A's ids: by-id routes answer 404, lists leave A's objects out, admin routes answer 403, and nothing
// of A's changes. Every route that is not listed as public answers 401 to no token, to a revoked
// personal API token, to an expired access token and to a sandbox capability token (which opens its
// own sandbox's routes and nothing else).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { taskRouteCases } from "./authz-task-cases.ts";
import { threadRouteCases } from "./authz-thread-cases.ts";
import {
  aliceWorld,
  type Case,
  type Context,
  expectForbidden,
  type World,
  wsUpgradeStatus,
} from "./authz-world.ts";
import { type ApiOperation, fillPath, openApiOperations, PUBLIC_ROUTES } from "./openapi-routes.ts";
import { postgresAdminUrl, postgresSuiteTitle } from "./postgres-test-store.ts";
import { startServerFixture } from "./server-fixture.ts";
import { callApi, signIn } from "./server-harness.ts";

const operations = openApiOperations();
const guarded = operations.filter((op) => !PUBLIC_ROUTES.includes(op.key));

/** One case per protected route of the document (the test fails for a route without one). */
const cases: Record<string, Case> = { ...threadRouteCases, ...taskRouteCases };

describe("the public routes", () => {
  it("are exactly the ones listed as exceptions, and every other route has an authorization case", () => {
    expect(operations.filter((op) => op.public).map((op) => op.key)).toEqual(PUBLIC_ROUTES);
    expect(guarded.map((op) => op.key).filter((key) => cases[key] === undefined)).toEqual([]);
  });
});

for (const database of ["sqlite", "postgres"] as const) {
  const title = database === "sqlite" ? "authorization on SQLite" : postgresSuiteTitle("authorization");
  describe.skipIf(database === "postgres" && postgresAdminUrl === undefined)(title, () => {
    let ctx: Context;

    beforeAll(async () => {
      const t = await startServerFixture({
        database,
        scenario: {
          steps: [
            { output: [{ type: "exec_command", cmd: "touch alice.txt" }] },
            { output: [{ type: "message", text: "Done." }] },
          ],
        },
      });
      const alice = await t.addUser("alice");
      const bob = await t.addUser("bob");
      ctx = { t, alice, bob, w: await aliceWorld(t, alice) };
    });
    afterAll(async () => {
      await ctx?.t.close();
      await ctx?.w.repo.cleanup();
    });

    for (const op of guarded) {
      it(`${op.key} answers 401 to no token, a revoked API token, an expired access token and another sandbox's capability token`, async () => {
        const { t, w } = ctx;
        const { path, body } = requestOf(op, w);
        // A sandbox route's path names sandbox A (sandboxId); the capability token is sandbox B's.
        for (const [credential, token] of [
          ["no token", undefined],
          ["a revoked API token", w.revokedToken],
          ["an expired access token", w.expiredToken],
          ["another sandbox's capability token", w.otherSandboxToken],
        ] as const) {
          if (op.webSocket) {
            expect({ credential, status: await wsUpgradeStatus(t.url, token, path) }).toEqual({
              credential,
              status: 401,
            });
            continue;
          }
          const response = await callApi(t.url, token, op.method, path, body);
          expect({ credential, status: response.status, code: response.body?.error?.code }).toEqual({
            credential,
            status: 401,
            code: "unauthorized",
          });
        }
      });
    }

    for (const op of guarded) {
      it(`${op.key} called by user B with user A's ids shows B none of A's objects`, async () => {
        const { t, bob, w } = ctx;
        const { path, body } = requestOf(op, w);
        // Logout ends the sign-in it is called with: give it one of its own.
        const caller =
          op.key === "POST /api/v1/auth/logout" ? await signIn(t.url, "bob", "bob-password") : bob;
        const response = await callApi(t.url, caller.token, op.method, path, body);
        const text = JSON.stringify(response.body ?? "");
        for (const secret of [w.threadTitle, w.aliceId, w.envName, w.taskTitle]) {
          expect(text).not.toContain(secret);
        }
        await cases[op.key]?.asOtherUser(response, ctx);
      });
    }

    describe("a sandbox capability token", () => {
      const sandboxOps = guarded.filter((op) => op.sandbox);
      const otherOps = guarded.filter((op) => !op.sandbox);

      it("opens its own sandbox's routes, as a bearer token or as ?token=, natively and over WHAM", async () => {
        const { t, w } = ctx;
        for (const base of ["/api/v1/sandboxes", "/backend-api/wham/sandbox", "/api/codex/sandbox"]) {
          const bearer = await callApi(t.url, w.sandboxToken, "GET", `${base}/${w.sandboxId}/status`);
          const query = await callApi(
            t.url,
            undefined,
            "GET",
            `${base}/${w.sandboxId}/status?token=${w.sandboxToken}`,
          );
          for (const [how, response] of [
            ["bearer", bearer],
            ["?token=", query],
          ] as const) {
            expect({ base, how, status: response.status, state: response.body.state }).toEqual({
              base,
              how,
              status: 200,
              state: expect.stringMatching(/^(running|stopped)$/),
            });
          }
        }
        const listing = await callApi(t.url, w.sandboxToken, "GET", `/api/v1/sandboxes/${w.sandboxId}/files`);
        expect(listing.status).toBe(200);
        expect(JSON.stringify(listing.body)).toContain("README.md");
        const terminal = `/api/v1/sandboxes/${w.sandboxId}/terminal?token=${w.sandboxToken}`;
        expect(await wsUpgradeStatus(t.url, undefined, terminal)).toBe(101);
      });

      it("opens its task's id only when it is the token of the task's first attempt's sandbox", async () => {
        const { t, w } = ctx;
        const own = await callApi(t.url, w.sandboxToken, "GET", `/api/v1/sandboxes/${w.taskId}`);
        expect({ status: own.status, id: own.body.id }).toEqual({ status: 200, id: w.sandboxId });
        // The task id names attempt 0's sandbox (as for the owner): attempt 1's token does not open it.
        const other = await callApi(t.url, w.otherSandboxToken, "GET", `/api/v1/sandboxes/${w.taskId}`);
        expect({ status: other.status, code: other.body?.error?.code }).toEqual({
          status: 401,
          code: "unauthorized",
        });
      });

      it("cannot make more capability tokens", async () => {
        const { t, w } = ctx;
        const response = await callApi(
          t.url,
          w.sandboxToken,
          "POST",
          `/api/v1/sandboxes/${w.sandboxId}/tokens`,
        );
        expectForbidden(response);
      });

      it("answers 401 on every route of another sandbox, given as ?token=", async () => {
        const { t, w } = ctx;
        for (const op of sandboxOps) {
          const { path, body } = requestOf(op, w);
          const withToken = `${path}${path.includes("?") ? "&" : "?"}token=${w.otherSandboxToken}`;
          if (op.webSocket) {
            expect({ op: op.key, status: await wsUpgradeStatus(t.url, undefined, withToken) }).toEqual({
              op: op.key,
              status: 401,
            });
            continue;
          }
          const response = await callApi(t.url, undefined, op.method, withToken, body);
          expect({ op: op.key, status: response.status, code: response.body?.error?.code }).toEqual({
            op: op.key,
            status: 401,
            code: "unauthorized",
          });
        }
      });

      it("answers 401 on every route that is not a sandbox's, even when valid for its own sandbox", async () => {
        const { t, w } = ctx;
        expect(otherOps.map((op) => op.key)).toEqual(
          expect.arrayContaining([
            "GET /api/v1/threads",
            "GET /api/v1/tasks",
            "GET /backend-api/wham/tasks/list",
          ]),
        );
        for (const op of otherOps) {
          const { path, body } = requestOf(op, w);
          const status = op.webSocket
            ? await wsUpgradeStatus(t.url, w.sandboxToken, path)
            : (await callApi(t.url, w.sandboxToken, op.method, path, body)).status;
          expect({ op: op.key, status }).toEqual({ op: op.key, status: 401 });
        }
      });
    });

    // Was a bug: the WHAM API skipped sign-in for any path with a `/sandbox/…` segment (the sandbox
    // routes authenticate themselves), so a WHAM route whose parameter was `sandbox` ran without a
    // user and answered 500 (or 400).
    it("asks for a credential on a WHAM route whose parameter is the word sandbox", async () => {
      const { t, w } = ctx;
      for (const prefix of ["/backend-api/wham", "/api/codex"]) {
        for (const [method, path] of [
          ["GET", `${prefix}/environments/by-repo/sandbox/acme/widgets`],
          ["GET", `${prefix}/environments/by-repo/github/sandbox/widgets`],
          ["GET", `${prefix}/tasks/sandbox/turns`],
          ["POST", `${prefix}/tasks/sandbox/turns`],
          ["POST", `${prefix}/tasks/sandbox/environment`],
          ["GET", `${prefix}/tasks/${w.taskId}/turns/sandbox/sibling_turns`],
        ] as const) {
          const response = await callApi(t.url, undefined, method, path);
          expect({ path, status: response.status, code: response.body?.error?.code }).toEqual({
            path,
            status: 401,
            code: "unauthorized",
          });
        }
      }
    });

    it("leaves user A's thread, turn, approval, environment, task and sandboxes as they were", async () => {
      const { t, alice, w } = ctx;
      const thread = await t.call(alice, "GET", `/api/v1/threads/${w.threadId}`);
      expect(thread.body).toMatchObject({
        title: w.threadTitle,
        archived: false,
        status: "waitingForApproval",
        turns: [{ status: "waitingForApproval" }],
      });
      const items = (await t.call(alice, "GET", `/api/v1/threads/${w.threadId}/items`)).body.items;
      expect(JSON.stringify(items)).not.toContain("bob's");
      const threads = (await t.call(alice, "GET", "/api/v1/threads")).body.threads;
      expect(threads.map((x: { id: string }) => x.id)).toContain(w.threadId);
      expect(JSON.stringify(threads)).not.toContain("bob");

      const env = (await t.call(alice, "GET", `/api/v1/environments/${w.envId}`)).body;
      expect(env).toMatchObject({ id: w.envId, name: w.envName, pinned: false, taskCount: 1 });
      const task = (await t.call(alice, "GET", `/api/v1/tasks/${w.taskId}`)).body;
      expect(task).toMatchObject({ title: w.taskTitle, status: "completed", archived: false });
      expect(task.userTurns).toHaveLength(1);
      expect(task.attempts.map((a: { turns: unknown[] }) => a.turns.length)).toEqual([1, 1]);
      expect(task.attempts.map((a: { published?: unknown }) => a.published)).toEqual([undefined, undefined]);
      const files = await t.call(alice, "GET", `/api/v1/sandboxes/${w.sandboxId}/files`);
      expect(JSON.stringify(files.body)).not.toContain("bob");
    });
  });
}

function requestOf(op: ApiOperation, w: World): { path: string; body: unknown } {
  const c: Case | undefined = cases[op.key];
  if (c === undefined) throw new Error(`no authorization case for ${op.key}`);
  const path = fillPath(op.path, c.values?.(w) ?? {});
  return { path: c.query === undefined ? path : `${path}?${c.query}`, body: c.bodyOf?.(w) ?? c.body };
}
