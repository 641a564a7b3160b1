// Tasks through the SDK against a live server: an environment made from a local git repository whose
// test fails, a task the scripted model fixes (createAndWait, extract, diff), the task's event stream
// resumed after its connection is cut for real, poll/cancel/archive, a follow-up, and the task's
// sandbox (exec, files, status, capability token, terminal URL).
import type { TaskEventEnvelope } from "@kiln/protocol";
import { createTempGitRepo, type Scenario, type TempGitRepo } from "@kiln/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../server/test/server-harness.ts";
import { extract, isTerminalStatus, KilnApiError, KilnClient } from "../src/index.ts";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.ts";

const SOURCE = "export function add(a, b) {\n  return a - b;\n}\n";
const TEST = `import { add } from "./add.mjs";\nif (add(2, 3) !== 5) { console.error("add(2, 3) should be 5"); process.exit(1); }\nconsole.log("ok");\n`;
const PATCH =
  "*** Begin Patch\n*** Update File: add.mjs\n@@\n export function add(a, b) {\n-  return a - b;\n+  return a + b;\n }\n*** End Patch";

/** The model fixes add.mjs, runs the test, records the PR text and answers. */
const fixScenario = (chunkDelayMs = 0): Scenario => ({
  steps: [
    { output: [{ type: "apply_patch", patch: PATCH }], chunkDelayMs },
    { output: [{ type: "exec_command", cmd: "node test.mjs" }], chunkDelayMs },
    {
      output: [
        { type: "function_call", name: "make_pr", arguments: { title: "Fix add", body: "add() added." } },
      ],
      chunkDelayMs,
    },
    { output: [{ type: "message", text: "Fixed add; the test passes." }], chunkDelayMs },
  ],
});

let t: TestServer;
let token: string;
let client: KilnClient;
let repo: TempGitRepo;
let proxy: TcpProxy;
let envId: string;

beforeAll(async () => {
  t = await startTestServer();
  token = (await t.addUser("alice")).token;
  client = new KilnClient({ baseUrl: t.url, token });
  repo = await createTempGitRepo({
    "add.mjs": SOURCE,
    "test.mjs": TEST,
    "package.json": '{"type":"module"}\n',
  });
  proxy = await startTcpProxy(t.url);
  envId = (
    await client.environments.create({
      name: "adder",
      repository: repo.dir,
      branch: "main",
      setupScript: "echo prepared > .setup-artifact",
    })
  ).id;
});
afterAll(async () => {
  await proxy?.close();
  await t?.close();
  await repo?.cleanup();
});

/** The task's stored events, read straight from the server up to `lastSeq`. */
async function taskEvents(taskId: string, lastSeq: number): Promise<TaskEventEnvelope[]> {
  const events: TaskEventEnvelope[] = [];
  for await (const envelope of client.tasks.watch(taskId)) {
    events.push(envelope);
    if (envelope.seq >= lastSeq) break;
  }
  return events;
}

describe("environments over the SDK", () => {
  it("creates, lists, gets, updates and deletes environments, and lists the templates", async () => {
    const created = await client.environments.create({ name: "scratch", repository: repo.dir });
    expect(created).toMatchObject({ name: "scratch", repository: repo.dir, branch: "main", network: "off" });
    expect((await client.environments.list()).map((e) => e.name).sort()).toEqual(["adder", "scratch"]);
    const renamed = await client.environments.update(created.id, {
      name: "scratch 2",
      env: { MODE: "test" },
    });
    expect(renamed).toMatchObject({ id: created.id, name: "scratch 2", env: { MODE: "test" } });
    expect(await client.environments.get(created.id)).toEqual(renamed);
    await client.environments.delete(created.id);
    await expect(client.environments.get(created.id)).rejects.toMatchObject({ status: 404 });
    const templates = await client.environments.templates();
    expect(templates.length).toBeGreaterThan(0);
    expect(templates[0]).toEqual({
      name: expect.any(String),
      label: expect.any(String),
      description: expect.any(String),
      setupScript: expect.any(String),
      network: expect.stringMatching(/^(on|off)$/),
    });
  });
});

describe("tasks over the SDK", () => {
  let taskId: string;

  it("createAndWait runs a task to completion; extract() gives its message, diff, PR text and files", async () => {
    t.model.setScenario(fixScenario());
    const seen: TaskEventEnvelope[] = [];
    const task = await client.tasks.createAndWait(
      { environmentId: envId, prompt: "The test fails: fix add()" },
      { onEvent: (e) => seen.push(e) },
    );
    taskId = task.id;
    expect(task).toMatchObject({ status: "completed", bestOfN: 1, environmentName: "adder" });
    expect(seen.map((e) => e.seq)).toEqual(seen.map((_, i) => i + 1));
    expect(seen.at(-1)?.event).toEqual({ type: "task/status", status: "completed" });

    const result = extract(task);
    expect(result).toEqual({
      attemptId: task.attempts[0]?.id,
      index: 0,
      status: "completed",
      message: "Fixed add; the test passes.",
      diff: expect.stringContaining("diff --git a/add.mjs b/add.mjs"),
      pr: {
        title: "Fix add",
        body: "add() added.",
        stats: { filesModified: 1, linesAdded: 1, linesRemoved: 1 },
      },
      files: [{ path: "add.mjs", kind: "modified", additions: 1, deletions: 1, binary: false }],
    });
    expect(result.diff).toContain("+  return a + b;");
    expect(result.diff).not.toContain(".setup-artifact");
    expect(await client.tasks.diff(task.id, result.attemptId)).toBe(result.diff);
    expect(await client.tasks.diff(task.id, 0)).toBe(result.diff);
    expect(await client.tasks.get(task.id)).toEqual(task);
  });

  it("watch resumes the task's events after the connection is cut twice: every event exactly once, in order", async () => {
    t.model.setScenario(fixScenario(5));
    const viaProxy = new KilnClient({ baseUrl: proxy.url, token });
    const created = await viaProxy.tasks.create({ environmentId: envId, prompt: "Fix add again" });
    proxy.requests.length = 0;
    proxy.cutOn('"phase":"setup"', '"type":"attempt/result"');
    const seen: TaskEventEnvelope[] = [];
    for await (const envelope of viaProxy.tasks.watch(created.id, { reconnect: { initialDelayMs: 50 } })) {
      seen.push(envelope);
      if (envelope.event.type === "task/status" && isTerminalStatus(envelope.event.status)) break;
    }
    expect(proxy.cuts).toBe(2);
    expect(proxy.requests.filter((r) => r.includes("/events"))).toHaveLength(3);
    expect(seen.map((e) => e.seq)).toEqual(seen.map((_, i) => i + 1));
    expect(seen).toEqual(await taskEvents(created.id, seen.at(-1)?.seq ?? 0));
    expect(seen.at(-1)?.event).toEqual({ type: "task/status", status: "completed" });
    // The environment was prepared by the first task: this one copied it.
    expect(seen.map((e) => e.event)).toContainEqual(
      expect.objectContaining({ type: "environment/phase", phase: "setup", status: "skipped" }),
    );
  });

  it("lists, archives and finds tasks; poll resolves once the status is terminal", async () => {
    expect((await client.tasks.poll(taskId, { intervalMs: 20 })).status).toBe("completed");
    const archived = await client.tasks.archive(taskId);
    expect(archived).toMatchObject({ id: taskId, archived: true });
    expect((await client.tasks.list({ archived: true })).tasks.map((task) => task.id)).toEqual([taskId]);
    expect((await client.tasks.list({ archived: false })).tasks.map((task) => task.id)).not.toContain(taskId);
    expect((await client.tasks.archive(taskId, false)).archived).toBe(false);
  });

  it("continues the task with a follow-up in the same workspace", async () => {
    t.model.setScenario({
      steps: [
        { output: [{ type: "exec_command", cmd: "echo more >> add.mjs" }] },
        { output: [{ type: "message", text: "Appended a line." }] },
      ],
    });
    const accepted = await client.tasks.followUp(taskId, { prompt: "Append a line to add.mjs" });
    expect(accepted).toEqual({
      userTurnId: expect.any(String),
      turnId: expect.any(String),
      attemptId: extract(await client.tasks.get(taskId)).attemptId,
    });
    const done = await client.tasks.poll(taskId, {
      intervalMs: 50,
      until: (task) =>
        task.attempts[0]?.turns.find((turn) => turn.id === accepted.turnId)?.status === "completed",
    });
    expect(done.userTurns.map((u) => u.index)).toEqual([0, 1]);
    expect(extract(done)).toMatchObject({
      message: "Appended a line.",
      diff: expect.stringContaining("+more"),
    });
  });

  it("publishes an attempt as a branch of the environment's repository", async () => {
    const published = await client.tasks.publish(taskId, 0);
    expect(published).toEqual({
      branch: expect.stringContaining(taskId),
      commit: expect.stringMatching(/^[0-9a-f]{40}$/),
      publishedAt: expect.any(Number),
    });
    expect((await repo.git("rev-parse", published.branch)).trim()).toBe(published.commit);
    expect(await repo.git("show", `${published.branch}:add.mjs`)).toContain("return a + b;");
  });

  it("cancels a running task", async () => {
    t.model.setScenario({
      steps: [{ output: [{ type: "message", text: "slow ".repeat(200) }], chunkDelayMs: 200 }],
    });
    const created = await client.tasks.create({ environmentId: envId, prompt: "Take your time" });
    await client.tasks.poll(created.id, { intervalMs: 50, until: (task) => task.status === "running" });
    const cancelled = await client.tasks.cancel(created.id);
    expect(cancelled.status).toBe("cancelled");
    expect((await client.tasks.poll(created.id, { intervalMs: 50 })).status).toBe("cancelled");
  });

  it("reaches the task's sandbox: exec, files, status, a capability token and the terminal URL", async () => {
    const sandbox = await client.tasks.sandbox(taskId);
    // The workspace holds the fix and the follow-up's extra line.
    const ran = await client.sandboxes.exec(sandbox.id, {
      command: "sed -n 2p add.mjs && tail -n 1 add.mjs",
    });
    expect(ran).toMatchObject({ exit_code: 0, stdout: "  return a + b;\nmore\n", stderr: "" });
    await client.sandboxes.files.write(sandbox.id, "notes/todo.txt", "ship it\n");
    expect(await client.sandboxes.files.read(sandbox.id, "notes/todo.txt")).toMatchObject({
      type: "file",
      encoding: "utf-8",
      content: "ship it\n",
    });
    const root = await client.sandboxes.files.list(sandbox.id);
    expect(root.entries.map((e) => e.name)).toEqual(expect.arrayContaining(["add.mjs", "notes", "test.mjs"]));
    await expect(client.sandboxes.files.read(sandbox.id, "notes")).rejects.toThrow("is a directory");
    expect((await client.sandboxes.status(sandbox.id)).state).toMatch(/^(running|stopped)$/);

    const capability = await client.sandboxes.createToken(sandbox.id);
    expect(capability).toEqual({
      token: expect.stringMatching(/^kiln_sbx_/),
      sandboxId: sandbox.id,
      expiresAt: expect.any(Number),
    });
    const scoped = new KilnClient({ baseUrl: t.url, token: capability.token });
    expect((await scoped.sandboxes.exec(sandbox.id, { command: ["cat", "notes/todo.txt"] })).stdout).toBe(
      "ship it\n",
    );
    await expect(scoped.tasks.get(taskId)).rejects.toBeInstanceOf(KilnApiError);

    const url = new URL(await client.sandboxes.terminalUrl(sandbox.id));
    expect(`${url.protocol}//${url.host}${url.pathname}`).toBe(
      `${t.url.replace("http:", "ws:")}/api/v1/sandboxes/${sandbox.id}/terminal`,
    );
    expect(url.searchParams.get("token")).toMatch(/^kiln_sbx_/);
    expect((await scoped.sandboxes.status(sandbox.id)).state).toMatch(/^(running|stopped)$/);
  });
});
