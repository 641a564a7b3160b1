import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./server-harness.ts";
import { readSse, turnCompleted } from "./sse-client.ts";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});

describe("operational routes", () => {
  it("answers /healthz and /readyz without signing in", async () => {
    expect(await t.call(undefined, "GET", "/healthz")).toMatchObject({ status: 200, body: { status: "ok" } });
    expect(await t.call(undefined, "GET", "/readyz")).toMatchObject({ status: 200, body: { status: "ok" } });
  });

  it("counts turns, events and HTTP responses in Prometheus format at /metrics", async () => {
    t.model.setScenario({ steps: [{ output: [{ type: "message", text: "Hi." }] }] });
    const thread = (await t.call(t.admin, "POST", "/api/v1/threads", {})).body;
    const turnId = (await t.call(t.admin, "POST", `/api/v1/threads/${thread.id}/turns`, { input: "hi" })).body
      .turnId;
    const { frames } = await readSse(
      t.url,
      t.admin.token,
      `/api/v1/threads/${thread.id}/events`,
      turnCompleted(turnId),
    );
    await t.call(t.admin, "GET", "/api/v1/threads/thr_bad");
    const metrics = await t.call(undefined, "GET", "/metrics");
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = metrics.body as string;
    expect(text).toContain("# TYPE kiln_turns_running gauge\nkiln_turns_running 0\n");
    expect(text).toContain("kiln_turns_started_total 1\n");
    expect(text).toContain('kiln_turns_finished_total{status="completed"} 1\n');
    expect(text).toContain(`kiln_events_appended_total ${frames.length}\n`);
    expect(text).toMatch(/kiln_http_requests_total\{status="202"\} 1\n/);
    expect(text).toMatch(/kiln_http_requests_total\{status="400"\} 1\n/);
  });

  it("tags every response with a request id", async () => {
    const response = await t.call(undefined, "GET", "/healthz");
    expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});
