import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer, type TestUser } from "./server-harness.ts";

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
