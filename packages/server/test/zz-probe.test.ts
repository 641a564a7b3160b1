import { createTempGitRepo } from "@kiln/test-support";
import { it } from "vitest";
import WebSocket from "ws";
import { startServerFixture } from "./server-fixture.ts";
import { callApi } from "./server-harness.ts";

it("probe", async () => {
  const t0 = Date.now();
  const t = await startServerFixture({});
  const alice = await t.addUser("alice");
  const repo = await createTempGitRepo({ "README.md": "hi\n" });
  const env = await t.call(alice, "POST", "/api/v1/environments", { name: "e", repository: repo.dir, forge: { kind: "github", repo: "acme/widgets" } });
  console.log("env", env.status, JSON.stringify(env.body).slice(0, 300));
  t.model.setScenario({ steps: [{ output: [{ type: "message", text: "done" }], repeat: 2 }] });
  const task = await t.call(alice, "POST", "/api/v1/tasks", { environmentId: env.body.id, prompt: "hello", bestOfN: 2 });
  console.log("task", task.status, JSON.stringify(task.body).slice(0, 300));
  let body: any;
  for (let i = 0; i < 400; i++) {
    body = (await t.call(alice, "GET", `/api/v1/tasks/${task.body.id}`)).body;
    if (["completed", "failed", "cancelled"].includes(body.status)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  console.log("done", Date.now() - t0, JSON.stringify(body).slice(0, 2000));
  const probes: [string, string, string | undefined, unknown?][] = [
    ["GET", "/backend-api/wham/environments/by-repo/sandbox/acme/widgets", undefined],
    ["GET", "/backend-api/wham/tasks/sandbox/turns", undefined],
    ["GET", "/backend-api/wham/usage/sandbox/x", undefined],
    ["GET", `/api/v1/sandboxes/${body.attempts[0].sandboxId}/terminal`, undefined],
  ];
  const sbx0 = (await t.call(alice, "POST", `/api/v1/sandboxes/${body.attempts[0].sandboxId}/tokens`)).body;
  const sbx1 = (await t.call(alice, "POST", `/api/v1/sandboxes/${body.attempts[1].sandboxId}/tokens`)).body;
  console.log("tokens", sbx0, sbx1);
  probes.push(["GET", `/api/v1/sandboxes/${body.id}`, sbx1.token]);
  probes.push(["GET", `/api/v1/sandboxes/${body.id}`, sbx0.token]);
  probes.push(["GET", `/api/v1/sandboxes/${body.id}`, alice.token]);
  probes.push(["POST", `/backend-api/wham/sandbox/${body.attempts[0].sandboxId}/exec`, alice.token, { command: "echo hi", cwd: null, timeout_ms: null }]);
  probes.push(["POST", `/api/v1/sandboxes/${body.attempts[0].sandboxId}/exec`, alice.token, { command: ["echo", "a\u0000b"] }]);
  probes.push(["GET", `/api/v1/sandboxes/${body.attempts[0].sandboxId}/files?path=%00`, alice.token]);
  probes.push(["GET", `/backend-api/wham/environments/by-repo/github/acme/widgets`, alice.token]);
  probes.push(["GET", `/backend-api/wham/usage`, alice.token]);
  probes.push(["DELETE", `/api/v1/environments/${env.body.id}`, alice.token]);
  probes.push(["POST", `/api/v1/tasks/${body.id}/cancel`, alice.token]);
  probes.push(["GET", `/api/v1/tasks?environmentId=${env.body.id}`, t.admin.token]);
  for (const [m, p, tok, b] of probes) {
    const r = await callApi(t.url, tok, m, p, b);
    console.log(m, p.slice(0, 80), r.status, JSON.stringify(r.body).slice(0, 400));
  }
  for (const tok of [sbx0.token, undefined]) {
    const ws = new WebSocket(`${t.url.replace(/^http/, "ws")}/api/v1/sandboxes/${body.attempts[0].sandboxId}/terminal${tok ? `?token=${tok}` : ""}`);
    const st = await new Promise((resolve) => {
      ws.once("unexpected-response", (_q, res) => { resolve(res.statusCode); ws.terminate(); });
      ws.once("open", () => { resolve(101); });
      ws.once("error", (e) => resolve(String(e)));
    });
    const msgs: string[] = [];
    ws.on("message", (d) => msgs.push(String(d)));
    await new Promise((r) => setTimeout(r, 300));
    ws.close();
    console.log("ws", st, msgs.join("|").slice(0, 300));
  }
  console.log("total", Date.now() - t0);
  await t.close();
  await repo.cleanup();
}, 60_000);
