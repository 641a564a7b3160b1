// The WHAM API and the sandbox service over real HTTP: a best-of-2 task created the way a WHAM client
// creates it, its list/get/sibling_turns answers checked field by field against spec/wham-api.md;
// sandbox exec, files, status and the terminal WebSocket; capability tokens that work for one sandbox
// only.
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { WhamSiblingTurns, WhamTaskDetails, WhamTaskList, WhamUsage } from "@kiln/protocol";
import { createTempGitRepo, type TempGitRepo } from "@kiln/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startTestServer, type TestServer, type TestUser } from "./server-harness.ts";

const run = promisify(execFile);

let t: TestServer;
let alice: TestUser;
let bob: TestUser;
let repo: TempGitRepo;
let scratch: string;
let envId: string;

const hello = (text: string) => `*** Begin Patch\n*** Add File: hello.txt\n+${text}\n*** End Patch`;

beforeAll(async () => {
  t = await startTestServer();
  alice = await t.addUser("alice");
  bob = await t.addUser("bob");
  repo = await createTempGitRepo({ "README.md": "# demo\n" });
  scratch = await mkdtemp(join(tmpdir(), "kiln-wham-"));
  const bare = join(scratch, "demo.git");
  await run("git", ["clone", "-q", "--bare", repo.dir, bare]);
  envId = (
    await t.call(alice, "POST", "/api/v1/environments", {
      name: "my-env",
      repository: bare,
      forge: { kind: "github", apiUrl: "http://127.0.0.1:9/api", repo: "acme/demo" },
    })
  ).body.id;
});
afterAll(async () => {
  await t?.close();
  await repo?.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

async function waitForTask(user: TestUser, id: string) {
  for (let i = 0; i < 600; i++) {
    const task = (await t.call(user, "GET", `/api/v1/tasks/${id}`)).body;
    if (["completed", "failed", "cancelled"].includes(task.status)) return task;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`task ${id} did not finish`);
}

const whamCall = (user: TestUser | undefined, method: string, path: string, body?: unknown) =>
  t.call(user, method, `/backend-api/wham${path}`, body);

describe("the WHAM API", () => {
  let taskId: string;

  it("lists environments as a bare array and resolves owner/repo", async () => {
    const envs = await whamCall(alice, "GET", "/environments");
    expect(envs.body).toEqual([
      expect.objectContaining({ id: envId, label: "my-env", is_pinned: false, task_count: 0 }),
    ]);
    const byRepo = await t.call(alice, "GET", "/api/codex/environments/by-repo/github/acme/demo");
    expect(byRepo.body.map((e: { id: string }) => e.id)).toEqual([envId]);
    expect((await whamCall(bob, "GET", "/environments")).body).toEqual([]);
    expect((await whamCall(undefined, "GET", "/environments")).status).toBe(401);
  });

  it("creates a best-of-2 task from a WHAM request (unknown fields ignored, owner/repo as environment)", async () => {
    t.model.setScenario({
      steps: [
        {
          when: { bodyIncludes: "hello from one" },
          output: [{ type: "message", text: "Added hello (one)." }],
        },
        {
          when: { bodyIncludes: "hello from two" },
          output: [{ type: "message", text: "Added hello (two)." }],
        },
        { output: [{ type: "apply_patch", patch: hello("hello from one") }] },
        { output: [{ type: "apply_patch", patch: hello("hello from two") }] },
      ],
    });
    const created = await whamCall(alice, "POST", "/tasks", {
      new_task: { environment_id: "acme/demo", branch: "main", run_environment_in_qa_mode: false, extra: 1 },
      input_items: [
        { type: "message", role: "user", content: [{ content_type: "text", text: "Add a hello file" }] },
      ],
      metadata: { best_of_n: 2 },
      unknown_top_level: true,
    });
    expect(created.status).toBe(200);
    taskId = created.body.task.id;
    expect(taskId).toMatch(/^task_/);
    await waitForTask(alice, taskId);
  });

  it("answers tasks/list, tasks/{id} and sibling_turns with the spec's shapes", async () => {
    const list = await whamCall(alice, "GET", "/tasks/list?limit=20&task_filter=current");
    expect(() => WhamTaskList.parse(list.body)).not.toThrow();
    expect(list.body.cursor).toBeNull();
    const [item] = list.body.items;
    expect(item).toMatchObject({
      id: taskId,
      title: "Add a hello file",
      archived: false,
      has_unread_turn: false,
    });
    expect(typeof item.created_at).toBe("number");
    expect(item.created_at).toBeLessThan(1e11); // seconds, not ms
    const display = item.task_status_display.latest_turn_status_display;
    expect(item.task_status_display.environment_label).toBe("my-env");
    expect(display.turn_status).toBe("completed");
    expect(display.sibling_turn_ids).toHaveLength(1);
    expect(display.diff_stats).toEqual({ files_modified: 1, lines_added: 1, lines_removed: 0 });

    const details = await whamCall(alice, "GET", `/tasks/${taskId}`);
    expect(() => WhamTaskDetails.parse(details.body)).not.toThrow();
    const current = details.body.current_assistant_turn;
    expect(details.body.task).toMatchObject({
      id: taskId,
      environment_id: envId,
      current_turn_id: current.id,
    });
    expect(details.body.current_user_turn).toMatchObject({
      role: "user",
      turn_status: "completed",
      input_items: [
        { type: "message", role: "user", content: [{ content_type: "text", text: "Add a hello file" }] },
      ],
    });
    expect(current).toMatchObject({
      role: "assistant",
      turn_status: "completed",
      attempt_placement: 0,
      error: null,
    });
    expect(current.sibling_turn_ids).toEqual([display.sibling_turn_ids[0]]);
    const pr = current.output_items.find((o: { type: string }) => o.type === "pr");
    expect(pr.output_diff.diff).toMatch(/^diff --git a\/hello.txt b\/hello.txt\nnew file mode 100644\n/);
    expect(current.output_items[0]).toMatchObject({ type: "message", role: "assistant" });
    expect(details.body.current_diff_task_turn.output_items[0]).toEqual({
      type: "output_diff",
      diff: pr.output_diff.diff,
    });

    const siblings = await whamCall(alice, "GET", `/tasks/${taskId}/turns/${current.id}/sibling_turns`);
    expect(() => WhamSiblingTurns.parse(siblings.body)).not.toThrow();
    expect(siblings.body.sibling_turns).toHaveLength(1);
    const [other] = siblings.body.sibling_turns;
    expect(other).toMatchObject({
      id: current.sibling_turn_ids[0],
      attempt_placement: 1,
      turn_status: "completed",
    });
    const diffs = [
      pr.output_diff.diff,
      other.output_items.find((o: { type: string }) => o.type === "pr").output_diff.diff,
    ];
    expect(diffs.some((d) => d.includes("+hello from one"))).toBe(true);
    expect(diffs.some((d) => d.includes("+hello from two"))).toBe(true);

    expect((await whamCall(bob, "GET", `/tasks/${taskId}`)).status).toBe(404);
    expect((await t.call(alice, "GET", `/api/codex/tasks/${taskId}`)).body).toEqual(details.body);
  });

  it("reports usage with rate-limit windows in seconds", async () => {
    const usage = await whamCall(alice, "GET", "/usage");
    expect(() => WhamUsage.parse(usage.body)).not.toThrow();
    expect(usage.body.plan_type).toBe("self_hosted");
    expect(usage.body.rate_limit.primary_window.limit_window_seconds).toBe(18000);
    expect(usage.body.secondary_window.limit_window_seconds).toBe(604800);
    expect(usage.body.tokens.input).toBeGreaterThan(0);
  });

  it("provisions the task's sandbox and runs a command in it through the WHAM sandbox routes", async () => {
    const env = await whamCall(alice, "POST", `/tasks/${taskId}/environment`);
    expect(env.status).toBe(200);
    const sandboxId = env.body.sandbox.id;
    const exec = await whamCall(alice, "POST", `/sandbox/${sandboxId}/exec`, {
      command: "cat hello.txt; echo oops >&2",
    });
    expect(exec.body).toMatchObject({ exit_code: 0, stderr: "oops\n" });
    expect(exec.body.stdout).toMatch(/^hello from (one|two)\n$/);
    const status = await whamCall(alice, "GET", `/sandbox/${sandboxId}/status`);
    expect(status.body).toMatchObject({ state: "running" });
    expect(status.body.disk_bytes).toBeGreaterThan(0);
  });
});

describe("sandboxes", () => {
  let first: { id: string; sandboxId: string; workspace: string };
  let second: { id: string; sandboxId: string };

  beforeAll(async () => {
    t.model.setScenario({
      steps: [
        { output: [{ type: "exec_command", cmd: "echo secret-of-first > private.txt" }] },
        { output: [{ type: "message", text: "one" }] },
        { output: [{ type: "message", text: "two" }] },
      ],
    });
    const a = (await t.call(alice, "POST", "/api/v1/tasks", { environmentId: envId, prompt: "first" })).body;
    const doneA = await waitForTask(alice, a.id);
    const b = (await t.call(alice, "POST", "/api/v1/tasks", { environmentId: envId, prompt: "second" })).body;
    const doneB = await waitForTask(alice, b.id);
    const sandbox = (await t.call(alice, "GET", `/api/v1/sandboxes/${doneA.attempts[0].sandboxId}`)).body;
    first = { id: a.id, sandboxId: doneA.attempts[0].sandboxId, workspace: sandbox.workspace };
    second = { id: b.id, sandboxId: doneB.attempts[0].sandboxId };
  });

  it("reads and writes files confined to the workspace", async () => {
    const list = await t.call(alice, "GET", `/api/v1/sandboxes/${first.sandboxId}/files?path=`);
    expect(list.body.type).toBe("directory");
    expect(list.body.entries.map((e: { name: string }) => e.name)).toContain("private.txt");
    const put = await t.call(alice, "PUT", `/api/v1/sandboxes/${first.sandboxId}/files?path=notes/todo.md`, {
      content: "- ship it\n",
    });
    expect(put.status).toBe(200);
    const read = await t.call(alice, "GET", `/api/v1/sandboxes/${first.sandboxId}/files?path=notes/todo.md`);
    expect(read.body).toMatchObject({ type: "file", encoding: "utf-8", content: "- ship it\n" });
    const outside = await t.call(
      alice,
      "GET",
      `/api/v1/sandboxes/${first.sandboxId}/files?path=../../etc/passwd`,
    );
    expect(outside.status).toBe(400);
    expect(outside.body.error.code).toBe("path_escape");
    expect((await t.call(bob, "GET", `/api/v1/sandboxes/${first.sandboxId}/files?path=`)).status).toBe(404);
  });

  it("gives capability tokens that work for their own sandbox only", async () => {
    const token = (await t.call(alice, "POST", `/api/v1/sandboxes/${first.sandboxId}/tokens`)).body.token;
    expect(token).toMatch(/^kiln_sbx_/);
    const asToken = { username: "capability", token };
    expect((await t.call(asToken, "GET", `/api/v1/sandboxes/${first.sandboxId}/status`)).status).toBe(200);
    const exec = await t.call(asToken, "POST", `/api/v1/sandboxes/${first.sandboxId}/exec`, {
      command: ["cat", "private.txt"],
    });
    expect(exec.body).toMatchObject({ exit_code: 0, stdout: "secret-of-first\n" });
    for (const path of [
      `/api/v1/sandboxes/${second.sandboxId}/status`,
      `/api/v1/sandboxes/${second.sandboxId}/files?path=`,
      `/backend-api/wham/sandbox/${second.sandboxId}/status`,
      "/api/v1/threads",
      "/api/v1/tasks",
      `/api/v1/tasks/${first.id}`,
      "/backend-api/wham/tasks/list",
    ]) {
      const answer = await t.call(asToken, "GET", path);
      expect({ path, status: answer.status }).toEqual({ path, status: 401 });
      expect(answer.body.error.code).toBe("unauthorized");
    }
    expect((await t.call(asToken, "POST", `/api/v1/sandboxes/${first.sandboxId}/tokens`)).status).toBe(403);
  });

  it("opens a terminal over WebSocket: typing `echo hi` prints hi, and another task's files are not there", async () => {
    const token = (await t.call(alice, "POST", `/api/v1/sandboxes/${second.sandboxId}/tokens`)).body.token;
    const url = `${t.url.replace(/^http/, "ws")}/api/v1/sandboxes/${second.sandboxId}/terminal?token=${token}`;
    const ws = new WebSocket(url);
    let output = "";
    ws.on("message", (data) => {
      const message = JSON.parse(String(data));
      // Without terminal control sequences (bracketed paste, colours).
      if (message.type === "output") output += String(message.data).replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
    });
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    const until = async (pattern: RegExp) => {
      for (let i = 0; i < 200 && !pattern.test(output); i++) await new Promise((r) => setTimeout(r, 25));
      expect(output).toMatch(pattern);
    };
    ws.send(JSON.stringify({ type: "input", data: "echo h''i\r" }));
    await until(/\n\r*hi\r*\n/);
    ws.send(JSON.stringify({ type: "input", data: `cat ${first.workspace}/private.txt; echo status=$?\r` }));
    await until(/status=1/);
    expect(output).not.toContain("secret-of-first\r\n");
    ws.close();
  });

  it("refuses a terminal without credentials", async () => {
    const ws = new WebSocket(`${t.url.replace(/^http/, "ws")}/api/v1/sandboxes/${second.sandboxId}/terminal`);
    const status = await new Promise<number>((resolve) => {
      ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.on("open", () => resolve(101));
    });
    expect(status).toBe(401);
  });
});
