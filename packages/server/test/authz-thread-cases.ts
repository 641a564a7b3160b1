// The authorization cases of the routes that came before the task service — auth, users, tokens,
// secrets, threads, the WebSocket, approvals and usage — as user B calls them with user A's ids
// (authz-world.ts): by-id routes answer 404, lists leave A's objects out, admin routes answer 403,
// and nothing of A's changes.
import { expect } from "vitest";
import { type Case, expectForbidden, expectNotFound, subscribeOverWs, type World } from "./authz-world.ts";
import { callApi } from "./server-harness.ts";

const threadValues = (w: World) => ({ id: w.threadId });
const aliceLogin = { username: "alice", password: "alice-password" };

/** The cases of the auth, user, token, secret, thread, approval and usage routes. */
export const threadRouteCases: Record<string, Case> = {
  "GET /api/v1/prompts": {
    asOtherUser(response) {
      // The server's saved prompts are shared by its users (names and descriptions, no user data).
      expect(response.status).toBe(200);
      expect(Array.isArray(response.body.prompts)).toBe(true);
    },
  },
  "POST /api/v1/auth/logout": {
    async asOtherUser(_, { t, alice }) {
      // B's own sign-in ended (the call below used a fresh one); A's goes on.
      expect((await t.call(alice, "GET", "/api/v1/auth/me")).status).toBe(200);
    },
  },
  "GET /api/v1/auth/me": {
    asOtherUser(response, { w }) {
      expect(response.status).toBe(200);
      expect(response.body.user).toMatchObject({ username: "bob", role: "user" });
      expect(response.body.user.id).not.toBe(w.aliceId);
    },
  },
  "POST /api/v1/auth/password": {
    body: { currentPassword: "alice-password", newPassword: "a-brand-new-password" },
    async asOtherUser(response, { t }) {
      // Knowing A's password changes nothing: the route only ever acts on the caller.
      expectForbidden(response);
      expect((await callApi(t.url, undefined, "POST", "/api/v1/auth/login", aliceLogin)).status).toBe(200);
    },
  },
  "GET /api/v1/users": { asOtherUser: expectForbidden },
  "POST /api/v1/users": {
    body: { username: "mallory", password: "mallory-password" },
    asOtherUser: expectForbidden,
  },
  "PATCH /api/v1/users/{id}": {
    values: (w) => ({ id: w.aliceId }),
    body: { disabled: true },
    async asOtherUser(response, { t, alice }) {
      expectForbidden(response);
      expect((await t.call(alice, "GET", "/api/v1/auth/me")).body.user.disabledAt).toBeUndefined();
    },
  },
  "GET /api/v1/tokens": {
    asOtherUser(response, { w }) {
      expect(response.status).toBe(200);
      expect(response.body.tokens.map((x: { id: string }) => x.id)).not.toContain(w.tokenId);
    },
  },
  "POST /api/v1/tokens": {
    body: { name: "bob's", scopes: ["read"] },
    async asOtherUser(response, { t, alice }) {
      expect(response.status).toBe(201);
      const mine = (await t.call(alice, "GET", "/api/v1/tokens")).body.tokens.map(
        (x: { id: string }) => x.id,
      );
      expect(mine).not.toContain(response.body.id);
    },
  },
  "DELETE /api/v1/tokens/{id}": {
    values: (w) => ({ id: w.tokenId }),
    async asOtherUser(response, { t, w }) {
      expectNotFound(response);
      const mine = (await callApi(t.url, w.apiToken, "GET", "/api/v1/tokens")).body;
      expect(mine.tokens.find((x: { id: string }) => x.id === w.tokenId)?.revokedAt).toBeUndefined();
    },
  },
  "GET /api/v1/secrets": {
    asOtherUser(response, { w }) {
      expect(response.status).toBe(200);
      expect(response.body.secrets.map((s: { name: string }) => s.name)).not.toContain(w.onlySecretName);
    },
  },
  "PUT /api/v1/secrets/{name}": {
    values: (w) => ({ name: w.secretName }),
    body: { value: "bob's value" },
    async asOtherUser(response, { t, alice, w }) {
      // Secret names are per user: B made a secret of their own; A's is untouched.
      expect(response.status).toBe(200);
      const mine = (await t.call(alice, "GET", "/api/v1/secrets")).body.secrets;
      expect(mine).toContainEqual({ name: w.secretName, updatedAt: w.secretUpdatedAt });
    },
  },
  "DELETE /api/v1/secrets/{name}": {
    values: (w) => ({ name: w.onlySecretName }),
    async asOtherUser(response, { t, alice, w }) {
      expectNotFound(response);
      const mine = (await t.call(alice, "GET", "/api/v1/secrets")).body.secrets;
      expect(mine.map((s: { name: string }) => s.name)).toContain(w.onlySecretName);
    },
  },
  "POST /api/v1/threads": {
    body: { title: "bob's" },
    async asOtherUser(response, { t, alice }) {
      expect(response.status).toBe(201);
      const mine = (await t.call(alice, "GET", "/api/v1/threads")).body.threads;
      expect(mine.map((x: { id: string }) => x.id)).not.toContain(response.body.id);
    },
  },
  "GET /api/v1/threads": {
    async asOtherUser(response, { t, bob, w }) {
      expect(response.status).toBe(200);
      expect(response.body.threads.map((x: { id: string }) => x.id)).not.toContain(w.threadId);
      for (const query of ["status=waitingForApproval", `q=${encodeURIComponent(w.threadTitle)}`]) {
        expect((await t.call(bob, "GET", `/api/v1/threads?${query}`)).body).toEqual({ threads: [] });
      }
    },
  },
  "GET /api/v1/threads/{id}": { values: threadValues, asOtherUser: expectNotFound },
  "PATCH /api/v1/threads/{id}": {
    values: threadValues,
    body: { title: "bob was here", archived: true },
    asOtherUser: expectNotFound,
  },
  "POST /api/v1/threads/{id}/fork": { values: threadValues, body: {}, asOtherUser: expectNotFound },
  "POST /api/v1/threads/{id}/rollback": {
    values: threadValues,
    body: { turns: 1 },
    asOtherUser: expectNotFound,
  },
  "GET /api/v1/threads/{id}/items": { values: threadValues, asOtherUser: expectNotFound },
  "GET /api/v1/threads/{id}/usage": { values: threadValues, asOtherUser: expectNotFound },
  "POST /api/v1/threads/{id}/turns": {
    values: threadValues,
    body: { input: "bob's turn" },
    asOtherUser: expectNotFound,
  },
  "POST /api/v1/threads/{id}/steer": {
    values: threadValues,
    body: { input: "bob's steer" },
    asOtherUser: expectNotFound,
  },
  "POST /api/v1/threads/{id}/interrupt": { values: threadValues, asOtherUser: expectNotFound },
  "GET /api/v1/threads/{id}/events": { values: threadValues, asOtherUser: expectNotFound },
  "GET /api/v1/ws": {
    async asOtherUser(_, { t, bob, w }) {
      const messages = await subscribeOverWs(t.url, bob.token, w.threadId);
      expect(messages).toEqual([
        expect.objectContaining({
          type: "error",
          threadId: w.threadId,
          error: expect.objectContaining({ code: "not_found" }),
        }),
      ]);
    },
  },
  "GET /api/v1/approvals": {
    asOtherUser(response) {
      expect(response).toMatchObject({ status: 200, body: { approvals: [] } });
    },
  },
  "POST /api/v1/approvals/{id}": {
    values: (w) => ({ id: w.approvalId }),
    body: { decision: "approved" },
    async asOtherUser(response, { t, alice, w }) {
      expectNotFound(response);
      const pending = (await t.call(alice, "GET", "/api/v1/approvals")).body.approvals;
      expect(pending.map((a: { id: string }) => a.id)).toEqual([w.approvalId]);
    },
  },
  "GET /api/v1/usage": {
    async asOtherUser(response, { t, alice }) {
      expect(response.status).toBe(200);
      expect(response.body.total.calls).toBe(0);
      expect((await t.call(alice, "GET", "/api/v1/usage")).body.total.calls).toBeGreaterThan(0);
    },
  },
};
