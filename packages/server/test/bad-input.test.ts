import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer, type TestUser } from "./server-harness.ts";

/** Ids that parse but name nothing. */
const TASK = "task_01JAAAAAAAAAAAAAAAAAAAAAAA";
const ENV = "env_01JAAAAAAAAAAAAAAAAAAAAAAA";
const SANDBOX = "sbx_01JAAAAAAAAAAAAAAAAAAAAAAA";
const REPO = "https://git.example.invalid/team/project.git";
const whamPrompt = [{ type: "message", content: [{ content_type: "text", text: "x" }] }];

/** Environments, tasks, sandboxes and the WHAM API: `[what, method, path, body, status, field]`. */
const taskCases: [string, string, string, string | undefined, number, string][] = [
  [
    "an unknown environment field",
    "POST",
    "/api/v1/environments",
    JSON.stringify({ name: "x", repository: REPO, colour: "red" }),
    400,
    "colour",
  ],
  [
    "a relative repository path",
    "POST",
    "/api/v1/environments",
    JSON.stringify({ name: "x", repository: "src/project" }),
    400,
    "repository",
  ],
  [
    "a bad branch name",
    "POST",
    "/api/v1/environments",
    JSON.stringify({ name: "x", repository: REPO, branch: "a..b" }),
    400,
    "branch",
  ],
  [
    "a bad environment variable name",
    "POST",
    "/api/v1/environments",
    JSON.stringify({ name: "x", repository: REPO, env: { "1BAD": "x" } }),
    400,
    "env.1BAD",
  ],
  [
    "an unknown environment template",
    "POST",
    "/api/v1/environments",
    JSON.stringify({ name: "x", repository: REPO, template: "cobol" }),
    400,
    "template",
  ],
  ["a bad environment id", "GET", "/api/v1/environments/env_x", undefined, 400, "id"],
  [
    "a best-of-N over 4",
    "POST",
    "/api/v1/tasks",
    JSON.stringify({ environmentId: ENV, prompt: "x", bestOfN: 5 }),
    400,
    "bestOfN",
  ],
  ["a task without a prompt", "POST", "/api/v1/tasks", JSON.stringify({ environmentId: ENV }), 400, "prompt"],
  [
    "a task on an unknown environment",
    "POST",
    "/api/v1/tasks",
    JSON.stringify({ environmentId: ENV, prompt: "x" }),
    404,
    "environmentId",
  ],
  ["an unknown task status", "GET", "/api/v1/tasks?status=done", undefined, 400, "status"],
  ["an unknown task query parameter", "GET", "/api/v1/tasks?colour=red", undefined, 400, "colour"],
  ["a bad task cursor", "GET", "/api/v1/tasks?cursor=notacursor", undefined, 400, "cursor"],
  ["a bad task id", "GET", "/api/v1/tasks/task_x", undefined, 400, "id"],
  ["an unknown task", "GET", `/api/v1/tasks/${TASK}`, undefined, 404, "id"],
  [
    "an attempt index out of range",
    "GET",
    `/api/v1/tasks/${TASK}/attempts/7/diff`,
    undefined,
    400,
    "attempt",
  ],
  ["a negative task event seq", "GET", `/api/v1/tasks/${TASK}/events?after=-1`, undefined, 400, "after"],
  ["a follow-up without a prompt", "POST", `/api/v1/tasks/${TASK}/turns`, "{}", 400, "prompt"],
  [
    "a non-boolean archived",
    "PATCH",
    `/api/v1/tasks/${TASK}`,
    JSON.stringify({ archived: "yes" }),
    400,
    "archived",
  ],
  ["a bad sandbox id", "GET", "/api/v1/sandboxes/sbx_x", undefined, 400, "id"],
  ["an unknown sandbox", "GET", `/api/v1/sandboxes/${SANDBOX}/status`, undefined, 404, "id"],
  ["a WHAM page size of 0", "GET", "/backend-api/wham/tasks/list?limit=0", undefined, 400, "limit"],
  [
    "an unknown WHAM task filter",
    "GET",
    "/api/codex/tasks/list?task_filter=some",
    undefined,
    400,
    "task_filter",
  ],
  [
    "a WHAM task without input items",
    "POST",
    "/backend-api/wham/tasks",
    JSON.stringify({ new_task: { environment_id: ENV } }),
    400,
    "input_items",
  ],
  [
    "a WHAM best_of_n over 4",
    "POST",
    "/api/codex/tasks",
    JSON.stringify({
      new_task: { environment_id: ENV },
      input_items: whamPrompt,
      metadata: { best_of_n: 9 },
    }),
    400,
    "metadata.best_of_n",
  ],
  [
    "a WHAM repository no environment has",
    "POST",
    "/backend-api/wham/tasks",
    JSON.stringify({ new_task: { environment_id: "team/project" }, input_items: whamPrompt }),
    404,
    "new_task.environment_id",
  ],
  [
    "a WHAM attempt placement over 3",
    "POST",
    `/backend-api/wham/tasks/${TASK}/environment`,
    JSON.stringify({ attempt_placement: 9 }),
    400,
    "attempt_placement",
  ],
  [
    "a bad WHAM turn id",
    "GET",
    `/api/codex/tasks/${TASK}/turns/turn_x/sibling_turns`,
    undefined,
    400,
    "turnId",
  ],
  [
    "a WHAM repository owner over 200 characters",
    "GET",
    `/backend-api/wham/environments/by-repo/github/${"o".repeat(201)}/project`,
    undefined,
    400,
    "owner",
  ],
];

let t: TestServer;
let alice: TestUser;
let threadId: string;

beforeAll(async () => {
  t = await startTestServer();
  alice = await t.addUser("alice");
  threadId = (await t.call(alice, "POST", "/api/v1/threads", {})).body.id;
});
afterAll(async () => {
  await t?.close();
});

async function raw(
  method: string,
  path: string,
  body: string | undefined,
  headers: Record<string, string> = {},
) {
  const response = await fetch(`${t.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${alice.token}`, "content-type": "application/json", ...headers },
    ...(body === undefined ? {} : { body }),
  });
  return {
    status: response.status,
    body: (await response.json()) as {
      error: { code: string; message: string; details?: { field?: string } };
    },
  };
}

describe("bad input", () => {
  const cases: [string, string, string, string | undefined, number, string][] = [
    ["malformed JSON", "POST", "/api/v1/threads", "{", 400, "body"],
    ["a wrong type", "POST", "/api/v1/threads", JSON.stringify({ sandbox: 3 }), 400, "sandbox"],
    [
      "an unknown enum value",
      "POST",
      "/api/v1/threads",
      JSON.stringify({ approvalPolicy: "sometimes" }),
      400,
      "approvalPolicy",
    ],
    [
      "an unknown field",
      "POST",
      "/api/v1/threads",
      JSON.stringify({ cwd: "/tmp", colour: "red" }),
      400,
      "colour",
    ],
    ["a JSON array body", "POST", "/api/v1/threads", "[]", 400, "body"],
    ["a turn without input", "POST", "/api/v1/threads/THREAD/turns", "{}", 400, "input"],
    ["an empty input", "POST", "/api/v1/threads/THREAD/turns", JSON.stringify({ input: [] }), 400, "input"],
    [
      "a bad input part",
      "POST",
      "/api/v1/threads/THREAD/turns",
      JSON.stringify({ input: [{ type: "video" }] }),
      400,
      "input",
    ],
    [
      "an image outside the workspace",
      "POST",
      "/api/v1/threads/THREAD/turns",
      JSON.stringify({ input: [{ type: "localImage", path: "/etc/passwd" }] }),
      403,
      "input.0.path",
    ],
    ["a bad thread id", "GET", "/api/v1/threads/thr_123", undefined, 400, "id"],
    ["a path-like thread id", "GET", "/api/v1/threads/..%2F..%2Fetc", undefined, 400, "id"],
    ["a bad cursor", "GET", "/api/v1/threads?cursor=notacursor", undefined, 400, "cursor"],
    ["a limit out of range", "GET", "/api/v1/threads?limit=0", undefined, 400, "limit"],
    ["an unknown query parameter", "GET", "/api/v1/threads?colour=red", undefined, 400, "colour"],
    ["a negative after", "GET", "/api/v1/threads/THREAD/events?after=-1", undefined, 400, "after"],
    [
      "a bad approval id",
      "POST",
      "/api/v1/approvals/apr_x",
      JSON.stringify({ decision: "approved" }),
      400,
      "id",
    ],
    [
      "a bad decision",
      "POST",
      "/api/v1/approvals/apr_01JAAAAAAAAAAAAAAAAAAAAAAA",
      JSON.stringify({ decision: "maybe" }),
      400,
      "decision",
    ],
    [
      "an unknown approval",
      "POST",
      "/api/v1/approvals/apr_01JAAAAAAAAAAAAAAAAAAAAAAA",
      JSON.stringify({ decision: "approved" }),
      404,
      "id",
    ],
    ["a bad day", "GET", "/api/v1/usage?from=yesterday", undefined, 400, "from"],
    ["a fork at turn 0", "POST", "/api/v1/threads/THREAD/fork", JSON.stringify({ atTurn: 0 }), 400, "atTurn"],
    [
      "a rollback of no turns",
      "POST",
      "/api/v1/threads/THREAD/rollback",
      JSON.stringify({ turns: "all" }),
      400,
      "turns",
    ],
    ...taskCases,
  ];
  for (const [what, method, path, body, status, field] of cases) {
    it(`answers ${what} with ${status} naming "${field}"`, async () => {
      const response = await raw(method, path.replace("THREAD", threadId), body);
      expect({ status: response.status, field: response.body.error.details?.field }).toEqual({
        status,
        field,
      });
      expect(response.body.error.message).not.toMatch(/\n\s+at |\.ts:\d+/);
    });
  }

  it("refuses a body over 1 MiB with 413", async () => {
    const big = JSON.stringify({ input: "x".repeat(1024 * 1024 + 10) });
    const response = await raw("POST", `/api/v1/threads/${threadId}/turns`, big);
    expect(response.status).toBe(413);
    expect(response.body.error.code).toBe("payload_too_large");
  });

  it("refuses a body that is not sent as JSON", async () => {
    const response = await raw("PATCH", `/api/v1/threads/${threadId}`, "title=x", {
      "content-type": "application/x-www-form-urlencoded",
    });
    expect(response.status).toBe(400);
    expect(response.body.error.details?.field).toBe("content-type");
  });

  it("refuses a bad Last-Event-ID", async () => {
    const response = await fetch(`${t.url}/api/v1/threads/${threadId}/events`, {
      headers: { authorization: `Bearer ${alice.token}`, "last-event-id": "abc" },
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { details: { field: string } } }).error.details.field).toBe(
      "Last-Event-ID",
    );
  });

  it("answers an unknown route with a JSON 404, and nothing half-written after bad requests", async () => {
    const response = await raw("GET", "/api/v1/nothing-here", undefined);
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe("not_found");
    const thread = await t.call(alice, "GET", `/api/v1/threads/${threadId}`);
    expect(thread.body).toMatchObject({ status: "idle", lastSeq: 0, turns: [] });
    const list = await t.call(alice, "GET", "/api/v1/threads");
    expect(list.body.threads).toHaveLength(1);
  });
});
