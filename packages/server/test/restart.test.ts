// Durable turns: `kiln serve` is SIGKILLed in the middle of a turn and started again on the same data
// directory; the turn completes without running a completed tool call twice, and a pending approval
// is still pending (with the same id) after the restart.
import { appendFile, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTempGitRepo, type FakeModelServer, startFakeModelServer } from "@kiln/test-support";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ServeProcess, startServe } from "./serve-process.ts";
import { callApi, signIn, writeModelConfig } from "./server-harness.ts";
import { readSse, turnCompleted } from "./sse-client.ts";

let model: FakeModelServer;
let home: string;
let env: Record<string, string>;
const running: ServeProcess[] = [];

beforeEach(async () => {
  model = await startFakeModelServer({ scenario: { steps: [] } });
  home = await mkdtemp(join(tmpdir(), "kiln-serve-"));
  await writeModelConfig(home, model.url);
  env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    KILN_HOME: home,
    LANG: "C.UTF-8",
    OPENAI_API_KEY: "test",
    KILN_ADMIN_PASSWORD: "admin-password",
    KILN_LOG_LEVEL: "warn",
  };
});

afterEach(async () => {
  for (const p of running.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
    await p.exited;
  }
  await model.close();
  await rm(home, { recursive: true, force: true });
});

async function serve(dataDir: string): Promise<ServeProcess> {
  const p = await startServe(dataDir, env);
  running.push(p);
  return p;
}

async function until<T>(read: () => Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("kiln serve killed mid-turn", () => {
  it("resumes the turn after a restart: the completed command is not run again and the model is told the running one was interrupted", async () => {
    model.setScenario({
      steps: [
        { output: [{ type: "exec_command", cmd: "echo ran >> count.txt" }] },
        { output: [{ type: "exec_command", cmd: "sleep 30", yield_time_ms: 60_000 }] },
        { output: [{ type: "message", text: "Carried on." }] },
      ],
    });
    const dataDir = join(home, "data");
    const first = await serve(dataDir);
    const admin = await signIn(first.url, "admin", "admin-password");
    const thread = (
      await callApi(first.url, admin.token, "POST", "/api/v1/threads", { approvalPolicy: "never" })
    ).body;
    const turn = await callApi(first.url, admin.token, "POST", `/api/v1/threads/${thread.id}/turns`, {
      input: "count, then wait",
    });
    expect(turn.status).toBe(202);
    const turnId = turn.body.turnId as string;
    await readSse(first.url, admin.token, `/api/v1/threads/${thread.id}/events`, (f) => {
      const e = f.envelope.event;
      return e.type === "item/started" && e.item.type === "commandExecution" && e.item.command === "sleep 30";
    });
    first.child.kill("SIGKILL");
    expect((await first.exited).signal).toBe("SIGKILL");

    const second = await serve(dataDir);
    // The access token is signed with the data dir's secret key: still valid after the restart.
    const { frames } = await readSse(
      second.url,
      admin.token,
      `/api/v1/threads/${thread.id}/events?after=0`,
      turnCompleted(turnId),
    );
    const seqs = frames.map((f) => f.envelope.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(frames.at(-1)?.envelope.event).toMatchObject({
      type: "turn/completed",
      turnId,
      status: "completed",
    });
    expect(await readFile(join(thread.info.cwd, "count.txt"), "utf8")).toBe("ran\n");

    const last = model.requests.at(-1)?.body as { input: { type: string; output?: string }[] };
    const outputs = last.input.filter((i) => i.type === "function_call_output").map((i) => i.output ?? "");
    expect(outputs).toHaveLength(2);
    expect(outputs[0]).toMatch(/^Exit code: 0/);
    expect(outputs[1]).toMatch(/interrupted: the Kiln process stopped while it was running/);
    expect(model.requests).toHaveLength(3);

    const got = await callApi(second.url, admin.token, "GET", `/api/v1/threads/${thread.id}`);
    expect(got.body).toMatchObject({
      status: "idle",
      turns: [expect.objectContaining({ id: turnId, status: "completed" })],
    });
  });

  it("keeps a pending approval across a restart: it is listed again with the same id and the decision completes the turn", async () => {
    model.setScenario({
      steps: [
        { output: [{ type: "exec_command", cmd: "touch made.txt" }] },
        { output: [{ type: "message", text: "Made it." }] },
      ],
    });
    const dataDir = join(home, "data");
    const first = await serve(dataDir);
    const admin = await signIn(first.url, "admin", "admin-password");
    const thread = (
      await callApi(first.url, admin.token, "POST", "/api/v1/threads", { approvalPolicy: "untrusted" })
    ).body;
    const turnId = (
      await callApi(first.url, admin.token, "POST", `/api/v1/threads/${thread.id}/turns`, {
        input: "make a file",
      })
    ).body.turnId as string;
    const pending = await until(async () => {
      const list = await callApi(first.url, admin.token, "GET", "/api/v1/approvals");
      return list.body.approvals[0];
    }, "the approval");
    expect(pending).toMatchObject({
      threadId: thread.id,
      turnId,
      approval: { type: "approval", kind: "command", summary: "touch made.txt", decision: "pending" },
    });
    const waiting = await callApi(first.url, admin.token, "GET", `/api/v1/threads/${thread.id}`);
    expect(waiting.body).toMatchObject({
      status: "waitingForApproval",
      turns: [{ id: turnId, status: "waitingForApproval" }],
    });
    first.child.kill("SIGKILL");
    await first.exited;

    const second = await serve(dataDir);
    const again = await until(async () => {
      const list = await callApi(second.url, admin.token, "GET", "/api/v1/approvals");
      return list.body.approvals[0];
    }, "the approval after the restart");
    expect(again.id).toBe(pending.id);
    expect(again.approval).toEqual(pending.approval);

    const answered = await callApi(second.url, admin.token, "POST", `/api/v1/approvals/${pending.id}`, {
      decision: "approved",
    });
    expect(answered.body).toEqual({ id: pending.id, threadId: thread.id, decision: "approved" });
    const { frames } = await readSse(
      second.url,
      admin.token,
      `/api/v1/threads/${thread.id}/events`,
      turnCompleted(turnId),
    );
    expect(frames.at(-1)?.envelope.event).toMatchObject({ status: "completed" });
    const approvalItems = frames.filter(
      (f) => f.envelope.event.type === "item/completed" && f.envelope.event.item.type === "approval",
    );
    expect(
      approvalItems.map((f) => (f.envelope.event as { item: { decision: string } }).item.decision),
    ).toEqual(["approved"]);
    expect(await readFile(join(thread.info.cwd, "made.txt"), "utf8")).toBe("");
  });

  it("on SIGTERM interrupts a running turn after its step and keeps a turn that waits for an approval for the next start", async () => {
    model.setScenario({
      steps: [
        {
          when: { bodyIncludes: "sleepy" },
          output: [{ type: "exec_command", cmd: "sleep 30", yield_time_ms: 60_000 }],
        },
        { when: { bodyIncludes: "approve-me" }, output: [{ type: "exec_command", cmd: "touch kept.txt" }] },
        { when: { bodyIncludes: "approve-me" }, output: [{ type: "message", text: "Kept." }] },
      ],
    });
    env.KILN_SHUTDOWN_GRACE_MS = "300";
    const dataDir = join(home, "data");
    const first = await serve(dataDir);
    const admin = await signIn(first.url, "admin", "admin-password");
    const sleepy = (
      await callApi(first.url, admin.token, "POST", "/api/v1/threads", { approvalPolicy: "never" })
    ).body;
    const asking = (
      await callApi(first.url, admin.token, "POST", "/api/v1/threads", { approvalPolicy: "untrusted" })
    ).body;
    const sleepyTurn = (
      await callApi(first.url, admin.token, "POST", `/api/v1/threads/${sleepy.id}/turns`, { input: "sleepy" })
    ).body.turnId;
    await readSse(first.url, admin.token, `/api/v1/threads/${sleepy.id}/events`, (f) => {
      const e = f.envelope.event;
      return e.type === "item/started" && e.item.type === "commandExecution";
    });
    const askingTurn = (
      await callApi(first.url, admin.token, "POST", `/api/v1/threads/${asking.id}/turns`, {
        input: "approve-me",
      })
    ).body.turnId;
    const pending = await until(
      async () => (await callApi(first.url, admin.token, "GET", "/api/v1/approvals")).body.approvals[0],
      "the approval",
    );

    first.child.kill("SIGTERM");
    expect(await first.exited).toEqual({ code: 0, signal: null });
    expect(first.stderr()).toMatch(/SIGTERM: stopping/);

    const second = await serve(dataDir);
    const stopped = await callApi(second.url, admin.token, "GET", `/api/v1/threads/${sleepy.id}`);
    expect(stopped.body).toMatchObject({
      status: "idle",
      turns: [{ id: sleepyTurn, status: "interrupted" }],
    });
    const again = await until(
      async () => (await callApi(second.url, admin.token, "GET", "/api/v1/approvals")).body.approvals[0],
      "the approval after the restart",
    );
    expect(again).toMatchObject({ id: pending.id, threadId: asking.id, turnId: askingTurn });
    await callApi(second.url, admin.token, "POST", `/api/v1/approvals/${pending.id}`, {
      decision: "approved",
    });
    const { frames } = await readSse(
      second.url,
      admin.token,
      `/api/v1/threads/${asking.id}/events`,
      turnCompleted(askingTurn),
    );
    expect(frames.at(-1)?.envelope.event).toMatchObject({ status: "completed" });
    const seqs = frames.map((f) => f.envelope.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  });

  it("appends the events the store missed (written to the rollout just before a crash) when the thread is loaded again", async () => {
    model.setScenario({
      steps: [
        { output: [{ type: "message", text: "One." }] },
        { output: [{ type: "message", text: "Two." }] },
      ],
    });
    const dataDir = join(home, "data");
    const first = await serve(dataDir);
    const admin = await signIn(first.url, "admin", "admin-password");
    const thread = (await callApi(first.url, admin.token, "POST", "/api/v1/threads", {})).body;
    const one = (
      await callApi(first.url, admin.token, "POST", `/api/v1/threads/${thread.id}/turns`, { input: "one" })
    ).body.turnId;
    const before = (
      await readSse(first.url, admin.token, `/api/v1/threads/${thread.id}/events`, turnCompleted(one))
    ).frames;
    first.child.kill("SIGKILL");
    await first.exited;
    // As if the process died after writing an event to the rollout and before the store append.
    const rollout = await findRollout(join(dataDir, "kiln-home", "sessions"), thread.id);
    const lines = (await readFile(rollout, "utf8")).trimEnd().split("\n");
    const lastLine = JSON.parse(lines.at(-1) ?? "{}") as { seq: number };
    const missed = {
      seq: before.length + 1,
      threadId: thread.id,
      at: Date.now(),
      event: { type: "warning", message: "missed" },
    };
    await appendFile(
      rollout,
      `${JSON.stringify({ v: 1, seq: lastLine.seq + 1, at: missed.at, kind: "event", payload: missed })}\n`,
    );

    const second = await serve(dataDir);
    const two = (
      await callApi(second.url, admin.token, "POST", `/api/v1/threads/${thread.id}/turns`, { input: "two" })
    ).body.turnId;
    const after = (
      await readSse(second.url, admin.token, `/api/v1/threads/${thread.id}/events`, turnCompleted(two))
    ).frames;
    const seqs = after.map((f) => f.envelope.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(after.slice(0, before.length).map((f) => f.envelope)).toEqual(before.map((f) => f.envelope));
    expect(after[before.length]?.envelope).toEqual(missed);
    expect(after[before.length + 1]?.envelope.event).toEqual({ type: "turn/started", turnId: two });
  });
});

/** The rollout file of a thread under `sessions/`. */
async function findRollout(sessions: string, threadId: string): Promise<string> {
  const files = (await readdir(sessions, { recursive: true })).filter((f) =>
    f.endsWith(`-${threadId}.jsonl`),
  );
  if (files[0] === undefined) throw new Error(`no rollout for ${threadId}`);
  return join(sessions, files[0]);
}

describe("kiln serve killed while a task runs", () => {
  async function waitTask(url: string, token: string, id: string) {
    return until(async () => {
      const task = (await callApi(url, token, "GET", `/api/v1/tasks/${id}`)).body;
      return ["completed", "failed", "cancelled"].includes(task.status) ? task : undefined;
    }, `task ${id} to end`);
  }

  it("finishes the task after a restart: the attempt's run resumes, its diff and PR text are recorded, no command runs twice", async () => {
    const repo = await createTempGitRepo({ "README.md": "# r\n" });
    try {
      model.setScenario({
        steps: [
          { output: [{ type: "exec_command", cmd: "echo ran >> count.txt" }] },
          { output: [{ type: "exec_command", cmd: "sleep 30", yield_time_ms: 60_000 }] },
          {
            output: [
              {
                type: "function_call",
                name: "make_pr",
                arguments: { title: "Count", body: "Counted once." },
              },
            ],
          },
          { output: [{ type: "message", text: "Carried on." }] },
        ],
      });
      const dataDir = join(home, "data");
      const first = await serve(dataDir);
      const admin = await signIn(first.url, "admin", "admin-password");
      const env = (
        await callApi(first.url, admin.token, "POST", "/api/v1/environments", {
          name: "r",
          repository: repo.dir,
        })
      ).body;
      const task = (
        await callApi(first.url, admin.token, "POST", "/api/v1/tasks", {
          environmentId: env.id,
          prompt: "count",
        })
      ).body;
      const threadId = await until(async () => {
        const t = (await callApi(first.url, admin.token, "GET", `/api/v1/tasks/${task.id}`)).body;
        return t.attempts[0].threadId === "" ? undefined : (t.attempts[0].threadId as string);
      }, "the attempt's thread");
      await readSse(first.url, admin.token, `/api/v1/threads/${threadId}/events`, (f) => {
        const e = f.envelope.event;
        return (
          e.type === "item/started" && e.item.type === "commandExecution" && e.item.command === "sleep 30"
        );
      });
      first.child.kill("SIGKILL");
      await first.exited;

      const second = await serve(dataDir);
      const done = await waitTask(second.url, admin.token, task.id);
      expect(done.status).toBe("completed");
      expect(done.attempts[0]).toMatchObject({
        status: "completed",
        message: "Carried on.",
        pr: { title: "Count", body: "Counted once." },
        diffStats: { filesModified: 1, linesAdded: 1, linesRemoved: 0 },
      });
      expect(done.attempts[0].diff).toContain("+ran\n");
      expect(done.attempts[0].diff).not.toContain("+ran\n+ran");
    } finally {
      await repo.cleanup();
    }
  });

  it("prepares the environment again when the process died during setup, and the task completes", async () => {
    const repo = await createTempGitRepo({ "README.md": "# r\n" });
    try {
      model.setScenario({ steps: [{ output: [{ type: "message", text: "Ready." }] }] });
      const dataDir = join(home, "data");
      const first = await serve(dataDir);
      const admin = await signIn(first.url, "admin", "admin-password");
      const env = (
        await callApi(first.url, admin.token, "POST", "/api/v1/environments", {
          name: "slow",
          repository: repo.dir,
          setupScript: "echo setting-up; sleep 2",
        })
      ).body;
      const task = (
        await callApi(first.url, admin.token, "POST", "/api/v1/tasks", {
          environmentId: env.id,
          prompt: "go",
        })
      ).body;
      await until(async () => {
        const t = (await callApi(first.url, admin.token, "GET", `/api/v1/tasks/${task.id}`)).body;
        return t.status === "provisioning" ? true : undefined;
      }, "provisioning");
      first.child.kill("SIGKILL");
      await first.exited;

      const second = await serve(dataDir);
      const done = await waitTask(second.url, admin.token, task.id);
      expect(done.status).toBe("completed");
      expect(done.attempts[0]).toMatchObject({ status: "completed", message: "Ready." });
    } finally {
      await repo.cleanup();
    }
  });
});
