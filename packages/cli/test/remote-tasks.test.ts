// `kiln tasks …` with the real CLI against a real server whose fake model writes hello.txt: create
// (with and without --wait) on an environment named by its name, watch, list, show, diff, and apply
// into local clones: clean, conflicting (nothing touched), already applied, and for real.
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RemoteCli, startRemoteCli, WRITE_HELLO } from "./remote-cli-harness.ts";

const run = promisify(execFile);

let cli: RemoteCli;
let origin: string;
/** The task made by `tasks create --wait` (the later tests read it). */
let taskId: string;

beforeAll(async () => {
  cli = await startRemoteCli();
  await cli.login();
  origin = (await cli.createEnvironment("demo", { "README.md": "# demo\n" })).repo.dir;
});
afterAll(async () => {
  await cli?.close();
});

/** A fresh clone of the environment's repository (the task's base commit). */
async function clone(): Promise<string> {
  const dir = join(await cli.scratch("kiln-clone-"), "repo");
  await run("git", ["clone", "-q", origin, dir]);
  return dir;
}

const status = async (dir: string) => (await run("git", ["status", "--porcelain"], { cwd: dir })).stdout;

describe("kiln tasks", () => {
  it("creates a task on an environment given by name and waits for it: progress, then the result", async () => {
    cli.t.model.setScenario(WRITE_HELLO);
    const created = await cli.kiln([
      "tasks",
      "create",
      "--env",
      "demo",
      "--title",
      "Write hello",
      "--wait",
      "Write hi to hello.txt",
    ]);
    expect(created.stderr).toBe("");
    expect(created.code).toBe(0);
    taskId = /^Created (task_\w+) on demo: Write hello$/m.exec(created.stdout)?.[1] ?? "";
    expect(taskId).not.toBe("");
    const lines = created.stdout.split("\n");
    // The order the task went through, as printed (durations and commits vary).
    expect(
      lines
        .filter((l) => /^(task|environment|attempt 0) \S/.test(l))
        .map((l) => l.replace(/ \(.*$| at \w+.*$/, "")),
    ).toEqual([
      "task queued",
      "task provisioning",
      "attempt 0 provisioning",
      "environment clone started",
      "environment clone completed",
      "environment setup started",
      "environment setup completed",
      "environment ready",
      "attempt 0 running",
      "task running",
      "attempt 0 changed 1 file +1 -0 · PR: Write hello",
      "attempt 0 completed",
      "task completed",
    ]);
    expect(created.stdout).toContain(`${taskId}  completed  Write hello\n`);
    expect(created.stdout).toMatch(/^attempt 0 {2}att_\w+ {2}completed {2}\+1 -0 {2}1 file$/m);
    expect(created.stdout).toContain("  added     hello.txt  +1 -0\n  message:\n    Wrote hello.txt.\n");
  });

  it("creates a task without waiting, and tasks watch follows it to its end", async () => {
    cli.t.model.setScenario(WRITE_HELLO);
    const created = await cli.kiln(["tasks", "create", "--env", "demo", "--title", "Again", "-"], {
      stdin: "Write hi again\n",
    });
    expect(created.code).toBe(0);
    const id = /^Created (task_\w+) on demo: Again$/m.exec(created.stdout)?.[1] ?? "";
    expect(created.stdout).toContain(`Follow it with: kiln tasks watch ${id}\n`);
    const watched = await cli.kiln(["tasks", "watch", id]);
    expect(watched).toMatchObject({ code: 0, stderr: "" });
    expect(watched.stdout).toMatch(/^task queued\n/);
    expect(watched.stdout).toContain("\ntask completed\n");
    expect(watched.stdout).toContain(`${id}  completed  Again\n`);
    // The environment was prepared for the first task: this one copies it.
    expect(watched.stdout).toMatch(/^environment setup skipped \(cached\)/m);
  });

  it("lists tasks as a table, newest first, and as JSON", async () => {
    const list = await cli.kiln(["tasks", "list"]);
    expect(list).toMatchObject({ code: 0, stderr: "" });
    const rows = list.stdout.trimEnd().split("\n");
    expect(rows[0]).toMatch(/^ID +STATUS +ATTEMPTS +\+\/- +AGE +TITLE$/);
    expect(rows.slice(1).map((r) => r.replace(/ \d+[smh] /, " AGE ").replace(/ +/g, " "))).toEqual([
      expect.stringMatching(/^task_\w+ completed 1\/1 \+1 -0 AGE Again$/),
      `${taskId} completed 1/1 +1 -0 AGE Write hello`,
    ]);
    const json = await cli.kiln([
      "tasks",
      "list",
      "--json",
      "--env",
      "demo",
      "--status",
      "completed",
      "--limit",
      "1",
    ]);
    const page = JSON.parse(json.stdout);
    expect(page.tasks).toHaveLength(1);
    expect(page.tasks[0]).toMatchObject({ title: "Again", status: "completed", environmentName: "demo" });
    expect(page.nextCursor).toEqual(expect.any(String));
  });

  it("shows a task: its attempts' status, stats, files and message; --json is the API's task", async () => {
    const show = await cli.kiln(["tasks", "show", taskId]);
    expect(show).toMatchObject({ code: 0, stderr: "" });
    const task = (await cli.t.call(cli.alice, "GET", `/api/v1/tasks/${taskId}`)).body;
    const attempt = task.attempts[0];
    expect(show.stdout.replace(/created \d+s ago/, "created AGE")).toBe(
      [
        `${taskId}  completed  Write hello`,
        `  environment demo (${task.environmentId})  branch main  base ${task.baseCommit.slice(0, 12)}  created AGE`,
        "",
        `attempt 0  ${attempt.id}  completed  +1 -0  1 file`,
        "  PR: Write hello",
        "  added     hello.txt  +1 -0",
        "  message:",
        "    Wrote hello.txt.",
        "",
      ].join("\n"),
    );
    const json = await cli.kiln(["tasks", "show", taskId, "--json"]);
    expect(JSON.parse(json.stdout)).toEqual(task);
  });

  it("prints an attempt's diff as the server has it", async () => {
    const task = (await cli.t.call(cli.alice, "GET", `/api/v1/tasks/${taskId}`)).body;
    const diff = await cli.kiln(["tasks", "diff", taskId, "--attempt", "0"]);
    expect(diff).toMatchObject({ code: 0, stderr: "", stdout: task.attempts[0].diff });
    expect(diff.stdout).toContain("diff --git a/hello.txt b/hello.txt\nnew file mode 100644\n");
    expect(diff.stdout).toContain("+hi\n");
    const missing = await cli.kiln(["tasks", "diff", taskId, "--attempt", "3"]);
    expect(missing).toMatchObject({
      code: 1,
      stderr: `kiln: task ${taskId} has no attempt 3; its attempts: 0 (${task.attempts[0].id})\n`,
    });
  });

  it("answers an unknown task with the server's not-found message", async () => {
    const id = "task_01JD3ZZZZZZZZZZZZZZZZZZZZZ";
    expect(await cli.kiln(["tasks", "show", id])).toMatchObject({
      code: 1,
      stdout: "",
      stderr: `kiln: no task ${id}\n`,
    });
  });
});

describe("kiln tasks apply", () => {
  it("preflights a clean clone: everything applies, and the tree is not touched", async () => {
    const dir = await clone();
    const preflight = await cli.kiln(["tasks", "apply", taskId, "--preflight"], { cwd: join(dir) });
    expect(preflight).toMatchObject({
      code: 0,
      stderr: "",
      stdout: `Preflight of ${taskId} attempt 0 on ${dir}:\n  apply            hello.txt\nIt would apply cleanly.\n`,
    });
    expect(await status(dir)).toBe("");
  });

  it("reports a file that exists with other content as a conflict, and changes nothing, with or without --preflight", async () => {
    const dir = await clone();
    await writeFile(join(dir, "hello.txt"), "something else\n");
    const conflict = `  conflict         hello.txt  (hello.txt: already exists in working directory)\n`;
    const preflight = await cli.kiln(["tasks", "apply", taskId, "--preflight"], { cwd: dir });
    expect(preflight).toMatchObject({
      code: 1,
      stdout: `Preflight of ${taskId} attempt 0 on ${dir}:\n${conflict}It would not apply: 1 conflict.\n`,
    });
    const apply = await cli.kiln(["tasks", "apply", taskId], { cwd: dir });
    expect(apply).toMatchObject({
      code: 1,
      stdout: `${taskId} attempt 0 does not apply to ${dir}:\n${conflict}Nothing was changed (1 conflict).\n`,
    });
    expect(await readFile(join(dir, "hello.txt"), "utf8")).toBe("something else\n");
    expect(await status(dir)).toBe("?? hello.txt\n");
  });

  it("skips a file whose change is already there", async () => {
    const dir = await clone();
    await writeFile(join(dir, "hello.txt"), "hi\n");
    const preflight = await cli.kiln(["tasks", "apply", taskId, "--preflight"], { cwd: dir });
    expect(preflight).toMatchObject({
      code: 0,
      stdout: `Preflight of ${taskId} attempt 0 on ${dir}:\n  already applied  hello.txt  (the tree already has this change)\nIt would apply cleanly.\n`,
    });
    const apply = await cli.kiln(["tasks", "apply", taskId], { cwd: dir });
    expect(apply).toMatchObject({
      code: 0,
      stdout: `${dir} already has every change of ${taskId} attempt 0:\n  already applied  hello.txt  (the tree already has this change)\nNothing to do.\n`,
    });
    expect(await readFile(join(dir, "hello.txt"), "utf8")).toBe("hi\n");
  });

  it("applies the diff to the work tree from a subdirectory: git status shows the new file", async () => {
    const dir = await clone();
    await run("mkdir", ["-p", join(dir, "sub")]);
    const apply = await cli.kiln(["tasks", "apply", taskId], { cwd: join(dir, "sub") });
    expect(apply).toMatchObject({ code: 0, stderr: "" });
    expect(apply.stdout).toBe(
      `Applied ${taskId} attempt 0 to ${dir}:\n  apply            hello.txt\nReview with git status and git diff (new files are untracked).\n`,
    );
    expect(await readFile(join(dir, "hello.txt"), "utf8")).toBe("hi\n");
    expect(await status(dir)).toBe("?? hello.txt\n");
  });

  it("refuses to run outside a git work tree", async () => {
    const dir = await cli.scratch("kiln-not-git-");
    const apply = await cli.kiln(["tasks", "apply", taskId], { cwd: dir });
    expect(apply).toMatchObject({
      code: 1,
      stderr: `kiln: ${dir} is not inside a git work tree: run this in a clone of the task's repository\n`,
    });
  });
});
