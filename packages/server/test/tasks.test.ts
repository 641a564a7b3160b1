// Tasks end to end over real HTTP: an environment from a local bare repository whose test fails, a
// best-of-2 task where the scripted model fixes it differently in each attempt, both diffs applied
// with `git apply` to the base commit, the environment cache on the second task, follow-ups,
// cancellation, and scoping.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Scenario, ScenarioStep } from "@kiln/test-support";
import { createFakeForge, createTempGitRepo, type TempGitRepo } from "@kiln/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer, type TestUser } from "./server-harness.ts";

const run = promisify(execFile);

let t: TestServer;
let alice: TestUser;
let bob: TestUser;
let repo: TempGitRepo;
let bare: string;
let scratch: string;

const SOURCE = "export function add(a, b) {\n  return a - b;\n}\n";
const TEST = `import { add } from "./add.mjs";\nif (add(2, 3) !== 5) { console.error("add(2, 3) should be 5"); process.exit(1); }\nconsole.log("ok");\n`;

/** A patch that fixes add.mjs with `body`; `marker` makes the request bodies of one attempt recognisable. */
const fix = (body: string) =>
  `*** Begin Patch\n*** Update File: add.mjs\n@@\n export function add(a, b) {\n-  return a - b;\n+  ${body}\n }\n*** End Patch`;

/** The steps of one attempt after its patch: run the test, record the PR, answer. */
function attemptSteps(marker: string, title: string): ScenarioStep[] {
  const when = { bodyIncludes: marker };
  return [
    { when, output: [{ type: "exec_command", cmd: "node test.mjs" }] },
    {
      when,
      output: [
        { type: "function_call", name: "make_pr", arguments: { title, body: `Fixes add (${marker}).` } },
      ],
    },
    { when, output: [{ type: "message", text: `Fixed add with ${marker}; the test passes.` }] },
  ];
}

/** Two attempts fixing the bug differently (served in arrival order; the rest matched by marker). */
function bestOfTwo(): Scenario {
  return {
    steps: [
      ...attemptSteps("a + b", "Fix add: a + b"),
      ...attemptSteps("b + a", "Fix add: b + a"),
      { output: [{ type: "apply_patch", patch: fix("return a + b;") }] },
      { output: [{ type: "apply_patch", patch: fix("return b + a;") }] },
    ],
  };
}

async function waitForTask(
  user: TestUser,
  id: string,
  done = (s: string) => ["completed", "failed", "cancelled"].includes(s),
) {
  for (let i = 0; i < 600; i++) {
    const task = (await t.call(user, "GET", `/api/v1/tasks/${id}`)).body;
    if (done(task.status)) return task;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`task ${id} did not finish`);
}

beforeAll(async () => {
  t = await startTestServer();
  alice = await t.addUser("alice");
  bob = await t.addUser("bob");
  repo = await createTempGitRepo({
    "add.mjs": SOURCE,
    "test.mjs": TEST,
    "package.json": '{"type":"module"}\n',
  });
  scratch = await mkdtemp(join(tmpdir(), "kiln-tasks-"));
  bare = join(scratch, "origin.git");
  await run("git", ["clone", "-q", "--bare", repo.dir, bare]);
});
afterAll(async () => {
  await t?.close();
  await repo?.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

/** Checks out the base commit in a fresh directory, applies `diff`, runs the test. */
async function applyAndTest(baseCommit: string, diff: string, name: string): Promise<string> {
  const dir = join(scratch, name);
  await run("git", ["clone", "-q", bare, dir]);
  await run("git", ["checkout", "-q", baseCommit], { cwd: dir });
  await writeFile(join(dir, "change.diff"), diff);
  await run("git", ["apply", "change.diff"], { cwd: dir });
  const { stdout } = await run("node", ["test.mjs"], { cwd: dir });
  return stdout.trim();
}

describe("tasks", () => {
  let envId: string;

  it("creates an environment from a local bare repository, showing secret names but never values", async () => {
    const created = await t.call(alice, "POST", "/api/v1/environments", {
      name: "adder",
      repository: bare,
      branch: "main",
      setupScript: 'echo "preparing with $SETUP_TOKEN"; echo built > .setup-artifact',
      secrets: { SETUP_TOKEN: "s3cret-value" },
    });
    expect(created.status).toBe(201);
    envId = created.body.id;
    expect(created.body).toMatchObject({
      name: "adder",
      repository: bare,
      branch: "main",
      secretNames: ["SETUP_TOKEN"],
      network: "off",
      pinned: false,
      taskCount: 0,
    });
    expect(JSON.stringify(created.body)).not.toContain("s3cret-value");
    expect((await t.call(bob, "GET", `/api/v1/environments/${envId}`)).status).toBe(404);
    expect((await t.call(bob, "GET", "/api/v1/environments")).body).toEqual({ environments: [] });
  });

  it("runs best of 2: each attempt fixes the failing test its own way, and both diffs apply to the base commit and pass", async () => {
    t.model.setScenario(bestOfTwo());
    const created = await t.call(alice, "POST", "/api/v1/tasks", {
      environmentId: envId,
      prompt: "The test fails: fix add()",
      bestOfN: 2,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: "queued", bestOfN: 2, environmentName: "adder" });
    const task = await waitForTask(alice, created.body.id);
    expect(task.status).toBe("completed");
    expect(task.attempts).toHaveLength(2);
    const diffs = task.attempts.map((a: { diff: string }) => a.diff);
    expect(new Set(diffs).size).toBe(2);
    for (const attempt of task.attempts) {
      expect(attempt).toMatchObject({
        status: "completed",
        diffStats: { filesModified: 1, linesAdded: 1, linesRemoved: 1 },
        files: [{ path: "add.mjs", kind: "modified", additions: 1, deletions: 1, binary: false }],
        pr: { title: expect.stringMatching(/^Fix add: /) },
        message: expect.stringContaining("the test passes"),
      });
      expect(attempt.diff).toContain("diff --git a/add.mjs b/add.mjs");
      expect(attempt.diff).not.toContain(".setup-artifact");
      expect(await applyAndTest(task.baseCommit, attempt.diff, `check-${attempt.index}`)).toBe("ok");
      const raw = await fetch(`${t.url}/api/v1/tasks/${task.id}/attempts/${attempt.id}/diff`, {
        headers: { authorization: `Bearer ${alice.token}` },
      });
      expect(raw.headers.get("content-type")).toContain("text/x-diff");
      expect(await raw.text()).toBe(attempt.diff);
    }
    expect((await t.call(bob, "GET", `/api/v1/tasks/${task.id}`)).status).toBe(404);
    // The task's instructions reach the model as developer text; the user's message is the prompt alone.
    const first = JSON.stringify(t.model.requests.at(-1)?.body);
    expect(first).toContain("call `make_pr`");
    expect(task.userTurns[0].input).toEqual([{ type: "text", text: "The test fails: fix add()" }]);
  });

  it("prepares the environment once: the second task's events show setup skipped from the cache", async () => {
    t.model.setScenario({ steps: [{ output: [{ type: "message", text: "Nothing to change." }] }] });
    const created = (
      await t.call(alice, "POST", "/api/v1/tasks", { environmentId: envId, prompt: "Look around" })
    ).body;
    const task = await waitForTask(alice, created.id);
    expect(task.status).toBe("completed");
    const events = await readTaskEvents(alice, task.id);
    const phases = events
      .filter((e) => e.event.type === "environment/phase")
      .map((e) => `${e.event.phase}:${e.event.status}`);
    expect(phases).toContain("setup:skipped");
    expect(phases).not.toContain("setup:started");
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  });

  it("continues an attempt with a follow-up in the same workspace", async () => {
    t.model.setScenario({
      steps: [
        { output: [{ type: "exec_command", cmd: "echo first > notes.txt" }] },
        { output: [{ type: "message", text: "Wrote notes." }] },
        { output: [{ type: "exec_command", cmd: "cat notes.txt && echo second >> notes.txt" }] },
        { output: [{ type: "message", text: "Appended." }] },
      ],
    });
    const created = (
      await t.call(alice, "POST", "/api/v1/tasks", { environmentId: envId, prompt: "Write notes" })
    ).body;
    await waitForTask(alice, created.id);
    const follow = await t.call(alice, "POST", `/api/v1/tasks/${created.id}/turns`, { prompt: "Add a line" });
    expect(follow.status).toBe(202);
    const task = await waitForTask(alice, created.id, (s) => s === "completed" || s === "failed");
    await waitFor(
      async () =>
        (await t.call(alice, "GET", `/api/v1/tasks/${created.id}`)).body.attempts[0].turns.length === 2 &&
        (await t.call(alice, "GET", `/api/v1/tasks/${created.id}`)).body.attempts[0].turns[1].status ===
          "completed",
    );
    const final = (await t.call(alice, "GET", `/api/v1/tasks/${task.id}`)).body;
    expect(final.userTurns.map((u: { index: number }) => u.index)).toEqual([0, 1]);
    expect(final.attempts[0].turns[1]).toMatchObject({
      id: follow.body.turnId,
      status: "completed",
      message: "Appended.",
    });
    expect(final.attempts[0].diff).toContain("+first\n+second");
  });

  it("publishes an attempt: a branch with its commit in the repository, and a pull request on the forge (updated, not duplicated, on republish)", async () => {
    const forge = await createFakeForge({ kind: "github" });
    try {
      const env = (
        await t.call(alice, "POST", "/api/v1/environments", {
          name: "adder-forge",
          repository: bare,
          forge: { kind: "github", apiUrl: forge.url, repo: "acme/adder", token: forge.token },
        })
      ).body;
      expect(env.forge).toEqual({ kind: "github", apiUrl: forge.url, repo: "acme/adder", hasToken: true });
      expect(JSON.stringify(env)).not.toContain(forge.token);
      t.model.setScenario({
        steps: [
          ...attemptSteps("a + b", "Fix add: a + b"),
          { output: [{ type: "apply_patch", patch: fix("return a + b;") }] },
        ],
      });
      const created = (
        await t.call(alice, "POST", "/api/v1/tasks", { environmentId: env.id, prompt: "fix add" })
      ).body;
      const task = await waitForTask(alice, created.id);
      const attempt = task.attempts[0];
      const published = await t.call(
        alice,
        "POST",
        `/api/v1/tasks/${task.id}/attempts/${attempt.id}/publish`,
        {},
      );
      expect(published.status).toBe(200);
      expect(published.body).toMatchObject({
        branch: `kiln/${task.id}-1`,
        pullRequest: { number: 1, url: expect.any(String) },
      });
      const message = (await run("git", ["log", "-1", "--format=%B", published.body.branch], { cwd: bare }))
        .stdout;
      expect(message.trim()).toBe("Fix add: a + b\n\nFixes add (a + b).");
      expect(forge.pulls).toMatchObject([
        { title: "Fix add: a + b", head: `kiln/${task.id}-1`, base: "main" },
      ]);
      const again = await t.call(alice, "POST", `/api/v1/tasks/${task.id}/attempts/0/publish`);
      expect(again.body.pullRequest.number).toBe(1);
      expect(forge.pulls).toHaveLength(1);
      expect((await t.call(alice, "GET", `/api/v1/tasks/${task.id}`)).body.attempts[0].published).toEqual(
        again.body,
      );
      expect((await t.call(bob, "POST", `/api/v1/tasks/${task.id}/attempts/0/publish`)).status).toBe(404);
    } finally {
      await forge.close();
    }
  });

  it("cancels a running task: the attempt is interrupted and the task ends cancelled", async () => {
    t.model.setScenario({
      steps: [{ output: [{ type: "exec_command", cmd: "sleep 30", yield_time_ms: 60_000 }] }],
    });
    const created = (await t.call(alice, "POST", "/api/v1/tasks", { environmentId: envId, prompt: "wait" }))
      .body;
    await waitFor(
      async () => (await t.call(alice, "GET", `/api/v1/tasks/${created.id}`)).body.status === "running",
    );
    const cancelled = await t.call(alice, "POST", `/api/v1/tasks/${created.id}/cancel`);
    expect(cancelled.status).toBe(200);
    const task = await waitForTask(alice, created.id, (s) => s === "cancelled");
    await waitFor(
      async () =>
        (await t.call(alice, "GET", `/api/v1/tasks/${created.id}`)).body.attempts[0].status === "cancelled",
    );
    expect(task.status).toBe("cancelled");
    expect((await t.call(alice, "POST", `/api/v1/tasks/${created.id}/cancel`)).status).toBe(409);
  });

  it("lists the server's saved prompts, and a task prompt starting with /NAME is expanded for the model", async () => {
    await mkdir(join(t.dataDir, "kiln-home", "prompts"), { recursive: true });
    await writeFile(
      join(t.dataDir, "kiln-home", "prompts", "review.md"),
      "---\ndescription: Review a file\nargument-hint: FILE\n---\nReview $1 for bugs and fix them.\n",
    );
    const listed = await t.call(alice, "GET", "/api/v1/prompts");
    expect(listed.body).toEqual({
      prompts: [{ name: "review", description: "Review a file", argumentHint: "FILE" }],
    });
    t.model.setScenario({ steps: [{ output: [{ type: "message", text: "Reviewed." }] }] });
    const created = (
      await t.call(alice, "POST", "/api/v1/tasks", { environmentId: envId, prompt: "/review add.mjs" })
    ).body;
    await waitForTask(alice, created.id);
    expect(JSON.stringify(t.model.requests.at(-1)?.body)).toContain("Review add.mjs for bugs and fix them.");
  });

  it("answers bad input with a 4xx naming the field", async () => {
    const missing = await t.call(alice, "POST", "/api/v1/tasks", {
      environmentId: envId,
      prompt: "x",
      bestOfN: 9,
    });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details.field).toBe("bestOfN");
    const unknown = await t.call(alice, "POST", "/api/v1/tasks", {
      environmentId: "env_01JD3ZZZZZZZZZZZZZZZZZZZZZ",
      prompt: "x",
    });
    expect(unknown.status).toBe(404);
    const relative = await t.call(alice, "POST", "/api/v1/environments", {
      name: "rel",
      repository: "some/dir",
    });
    expect(relative.status).toBe(400);
    expect(relative.body.error.details.field).toBe("repository");
  });
});

async function waitFor(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("timed out");
}

/** Reads a task's stored events over SSE (the stream is cut once the backlog has arrived). */
async function readTaskEvents(user: TestUser, id: string) {
  const task = (await t.call(user, "GET", `/api/v1/tasks/${id}`)).body;
  const abort = new AbortController();
  const response = await fetch(`${t.url}/api/v1/tasks/${id}/events?after=0`, {
    headers: { authorization: `Bearer ${user.token}` },
    signal: abort.signal,
  });
  const events: Array<{ seq: number; event: { type: string; phase?: string; status?: string } }> = [];
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  while (events.length < task.lastSeq) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = frame.split("\n").find((l) => l.startsWith("data:"));
      if (data !== undefined) events.push(JSON.parse(data.slice(5)));
      end = buffer.indexOf("\n\n");
    }
  }
  abort.abort();
  return events;
}

describe("environments from host directories", () => {
  it("lets a user name a local repository only under a workspace root, and refuses paths that are not directories", async () => {
    const strict = await startTestServer({ workspaceRoots: [scratch] });
    try {
      const carol = await strict.addUser("carol");
      const inside = await strict.call(carol, "POST", "/api/v1/environments", {
        name: "ok",
        repository: bare,
      });
      expect(inside.status).toBe(201);
      const outside = await strict.call(carol, "POST", "/api/v1/environments", {
        name: "no",
        repository: repo.dir,
      });
      expect(outside.status).toBe(403);
      expect(outside.body.error).toMatchObject({ code: "forbidden", details: { field: "repository" } });
      const viaFile = await strict.call(carol, "POST", "/api/v1/environments", {
        name: "file",
        repository: `file://${repo.dir}`,
      });
      expect(viaFile.status).toBe(403);
      const missing = await strict.call(carol, "POST", "/api/v1/environments", {
        name: "missing",
        repository: join(scratch, "nope.git"),
      });
      expect(missing.status).toBe(400);
      expect((await strict.call(carol, "GET", "/api/v1/environments")).body.environments).toHaveLength(1);
    } finally {
      await strict.close();
    }
  });
});
