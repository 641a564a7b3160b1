// The authorization cases of the task service's routes — environments, tasks, sandboxes (native) and
// the WHAM API under both of its prefixes — as user B calls them with user A's ids (authz-world.ts):
// A's objects are invisible (404, never 403), lists leave them out, and nothing of A's changes.
import { expect } from "vitest";
import { ALICE_FORGE, type Case, expectNotFound, wsUpgradeStatus } from "./authz-world.ts";
import { fillPath } from "./openapi-routes.ts";

const WHAM_PREFIXES = ["/backend-api/wham", "/api/codex"] as const;

const envValues = (w: { envId: string }) => ({ id: w.envId });
const taskValues = (w: { taskId: string }) => ({ id: w.taskId });
const attemptValues = (w: { taskId: string; attemptId: string }) => ({ id: w.taskId, attempt: w.attemptId });
const sandboxValues = (w: { sandboxId: string }) => ({ id: w.sandboxId });
const ids = (list: { id: string }[]) => list.map((x) => x.id);
const whamPrompt = (text: string) => [
  { type: "message", role: "user", content: [{ content_type: "text", text }] },
];

/** B's exec and file write on A's sandbox: refused, and no trace of them in A's workspace. */
const untouchedSandbox: Case["asOtherUser"] = async (response, { t, alice, w }) => {
  expectNotFound(response);
  const listing = await t.call(alice, "GET", `/api/v1/sandboxes/${w.sandboxId}/files?path=`);
  expect(listing.status).toBe(200);
  expect(JSON.stringify(listing.body)).not.toContain("bob");
};

/** The routes of the sandbox at `base` (`…/sandboxes/{id}` natively, `…/sandbox/{id}` for WHAM). */
function sandboxCases(base: string): Record<string, Case> {
  return {
    [`GET ${base}`]: { values: sandboxValues, asOtherUser: expectNotFound },
    [`GET ${base}/status`]: { values: sandboxValues, asOtherUser: expectNotFound },
    [`POST ${base}/exec`]: {
      values: sandboxValues,
      body: { command: ["touch", "bob.txt"] },
      asOtherUser: untouchedSandbox,
    },
    [`GET ${base}/files`]: { values: sandboxValues, query: "path=README.md", asOtherUser: expectNotFound },
    [`PUT ${base}/files`]: {
      values: sandboxValues,
      query: "path=bob.txt",
      body: { content: "bob was here" },
      asOtherUser: untouchedSandbox,
    },
    [`POST ${base}/tokens`]: { values: sandboxValues, asOtherUser: expectNotFound },
    [`POST ${base}/stop`]: { values: sandboxValues, asOtherUser: expectNotFound },
    [`GET ${base}/terminal`]: {
      values: sandboxValues,
      async asOtherUser(response, { t, bob, w }) {
        expectNotFound(response);
        const path = fillPath(`${base}/terminal`, sandboxValues(w));
        expect(await wsUpgradeStatus(t.url, bob.token, path)).toBe(404);
      },
    },
  };
}

/** The WHAM routes under `prefix`. */
function whamCases(prefix: string): Record<string, Case> {
  return {
    [`GET ${prefix}/environments`]: {
      asOtherUser(response, { w }) {
        expect(response.status).toBe(200);
        expect(ids(response.body)).not.toContain(w.envId);
      },
    },
    [`GET ${prefix}/environments/by-repo/{provider}/{owner}/{repo}`]: {
      values: () => ({ ...ALICE_FORGE }),
      async asOtherUser(response, { t, alice, w }) {
        expect({ status: response.status, body: response.body }).toEqual({ status: 200, body: [] });
        // The same lookup finds A's environment for A: B's empty answer is not for want of a match.
        const path = fillPath(`${prefix}/environments/by-repo/{provider}/{owner}/{repo}`, ALICE_FORGE);
        expect(ids((await t.call(alice, "GET", path)).body)).toEqual([w.envId]);
      },
    },
    [`POST ${prefix}/tasks`]: {
      bodyOf: (w) => ({ new_task: { environment_id: w.envId }, input_items: whamPrompt("bob's task") }),
      async asOtherUser(response, { t, bob }) {
        expectNotFound(response);
        // Nor does A's repository name A's environment for B.
        const ref = `${ALICE_FORGE.owner}/${ALICE_FORGE.repo}`;
        const body = { new_task: { environment_id: ref }, input_items: whamPrompt("bob's task") };
        expectNotFound(await t.call(bob, "POST", `${prefix}/tasks`, body));
        expect((await t.call(bob, "GET", "/api/v1/tasks")).body.tasks).toEqual([]);
      },
    },
    [`GET ${prefix}/tasks/list`]: {
      async asOtherUser(response, { t, bob, w }) {
        expect({ status: response.status, body: response.body }).toEqual({
          status: 200,
          body: { items: [], cursor: null },
        });
        for (const query of ["task_filter=all", `environment_id=${w.envId}`]) {
          const page = await t.call(bob, "GET", `${prefix}/tasks/list?${query}`);
          expect(ids(page.body.items ?? [])).not.toContain(w.taskId);
        }
      },
    },
    [`GET ${prefix}/tasks/{id}`]: { values: taskValues, asOtherUser: expectNotFound },
    [`GET ${prefix}/tasks/{id}/turns`]: { values: taskValues, asOtherUser: expectNotFound },
    [`POST ${prefix}/tasks/{id}/turns`]: {
      values: taskValues,
      body: { input_items: whamPrompt("bob's follow-up") },
      asOtherUser: expectNotFound,
    },
    [`GET ${prefix}/tasks/{id}/turns/{turnId}/sibling_turns`]: {
      values: (w) => ({ id: w.taskId, turnId: w.turnId }),
      asOtherUser: expectNotFound,
    },
    [`POST ${prefix}/tasks/{id}/environment`]: {
      values: taskValues,
      body: { attempt_placement: 1 },
      asOtherUser: expectNotFound,
    },
    [`GET ${prefix}/usage`]: {
      async asOtherUser(response, { t, alice }) {
        expect(response.status).toBe(200);
        expect(response.body.tokens).toEqual({ input: 0, cached_input: 0, output: 0 });
        expect((await t.call(alice, "GET", `${prefix}/usage`)).body.tokens.input).toBeGreaterThan(0);
      },
    },
    [`GET ${prefix}/sandbox/templates`]: {
      asOtherUser(response) {
        expect(response.status).toBe(200);
        expect(response.body.templates.length).toBeGreaterThan(0);
      },
    },
    ...sandboxCases(`${prefix}/sandbox/{id}`),
  };
}

/** One case per route of the task service, native and WHAM. */
export const taskRouteCases: Record<string, Case> = {
  "GET /api/v1/environment-templates": {
    asOtherUser(response) {
      expect(response.status).toBe(200);
      expect(response.body.templates.length).toBeGreaterThan(0);
    },
  },
  "POST /api/v1/environments": {
    body: { name: "bob's", repository: "https://git.example.invalid/bob/project.git" },
    async asOtherUser(response, { t, alice, w }) {
      expect(response.status).toBe(201);
      const hers = (await t.call(alice, "GET", "/api/v1/environments")).body.environments;
      expect(ids(hers)).toEqual([w.envId]);
    },
  },
  "GET /api/v1/environments": {
    asOtherUser(response, { w }) {
      expect(response.status).toBe(200);
      expect(ids(response.body.environments)).not.toContain(w.envId);
    },
  },
  "GET /api/v1/environments/{id}": { values: envValues, asOtherUser: expectNotFound },
  "PATCH /api/v1/environments/{id}": {
    values: envValues,
    body: { name: "bob was here", pinned: true },
    asOtherUser: expectNotFound,
  },
  "DELETE /api/v1/environments/{id}": { values: envValues, asOtherUser: expectNotFound },
  "POST /api/v1/tasks": {
    bodyOf: (w) => ({ environmentId: w.envId, prompt: "bob's task" }),
    async asOtherUser(response, { t, bob }) {
      // A's environment is invisible to B: no task starts on it.
      expectNotFound(response);
      expect((await t.call(bob, "GET", "/api/v1/tasks")).body.tasks).toEqual([]);
    },
  },
  "GET /api/v1/tasks": {
    async asOtherUser(response, { t, bob, w }) {
      expect(response.status).toBe(200);
      expect(ids(response.body.tasks)).not.toContain(w.taskId);
      for (const query of [`search=${w.taskTitle}`, `environmentId=${w.envId}`, "status=completed"]) {
        expect((await t.call(bob, "GET", `/api/v1/tasks?${query}`)).body.tasks).toEqual([]);
      }
    },
  },
  "GET /api/v1/tasks/{id}": { values: taskValues, asOtherUser: expectNotFound },
  "PATCH /api/v1/tasks/{id}": {
    values: taskValues,
    body: { title: "bob was here", archived: true },
    asOtherUser: expectNotFound,
  },
  "POST /api/v1/tasks/{id}/cancel": { values: taskValues, asOtherUser: expectNotFound },
  "POST /api/v1/tasks/{id}/turns": {
    values: taskValues,
    body: { prompt: "bob's follow-up" },
    asOtherUser: expectNotFound,
  },
  "GET /api/v1/tasks/{id}/attempts/{attempt}/diff": { values: attemptValues, asOtherUser: expectNotFound },
  "POST /api/v1/tasks/{id}/attempts/{attempt}/publish": {
    values: attemptValues,
    body: { branch: "bob-was-here" },
    async asOtherUser(response, { w }) {
      expectNotFound(response);
      expect(await w.repo.git("branch", "--list", "bob-was-here")).toBe("");
    },
  },
  "GET /api/v1/tasks/{id}/sandbox": { values: taskValues, asOtherUser: expectNotFound },
  "GET /api/v1/tasks/{id}/events": { values: taskValues, asOtherUser: expectNotFound },
  ...sandboxCases("/api/v1/sandboxes/{id}"),
  ...Object.assign({}, ...WHAM_PREFIXES.map(whamCases)),
};
