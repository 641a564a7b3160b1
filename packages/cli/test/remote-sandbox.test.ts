// `kiln sandbox exec` and `kiln sandbox shell` with the real CLI against a real server: a finished task's
// sandbox (bwrap, the attempt's workspace) runs commands with their output and exit codes, and a shell
// driven through the terminal WebSocket by piped input.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RemoteCli, startRemoteCli, WRITE_HELLO } from "./remote-cli-harness.ts";

let cli: RemoteCli;
let taskId: string;

beforeAll(async () => {
  cli = await startRemoteCli();
  await cli.login();
  const env = await cli.createEnvironment("demo", { "README.md": "# demo\n", "src/app.txt": "app\n" });
  const task = await cli.runTask(env.id, "Write hello", WRITE_HELLO);
  if (task.status !== "completed") throw new Error(`the task ${task.status}`);
  taskId = task.id;
});
afterAll(async () => {
  await cli?.close();
});

describe("kiln sandbox exec", () => {
  it("runs a shell command line in the task's workspace: its stdout, stderr and exit code are ours", async () => {
    const run = await cli.kiln(["sandbox", "exec", taskId, "--", "cat hello.txt; echo oops >&2; exit 3"]);
    expect(run).toMatchObject({ code: 3, stdout: "hi\n", stderr: "oops\n" });
  });

  it("runs a program with its arguments as they are, in --cwd", async () => {
    const run = await cli.kiln(["sandbox", "exec", taskId, "--cwd", "src", "--", "ls", "-1", "."]);
    expect(run).toMatchObject({ code: 0, stdout: "app.txt\n", stderr: "" });
  });

  it("kills a command that outlives --timeout and exits 124", async () => {
    const run = await cli.kiln(["sandbox", "exec", taskId, "--timeout", "300", "--", "sleep 5"]);
    expect(run).toMatchObject({
      code: 124,
      stdout: "",
      stderr: "kiln: the command timed out after 300 ms\n",
    });
  });

  it("answers an unknown sandbox with the server's not-found message", async () => {
    const id = "sbx_01JD3ZZZZZZZZZZZZZZZZZZZZZ";
    expect(await cli.kiln(["sandbox", "exec", id, "--", "true"])).toMatchObject({
      code: 1,
      stderr: `kiln: no sandbox ${id}\n`,
    });
  });
});

describe("kiln sandbox shell", () => {
  it("drives a shell with piped input and exits with the shell's exit code", async () => {
    const run = await cli.kiln(["sandbox", "shell", taskId], {
      stdin: "echo from-shell-$((6 * 7))\nexit 5\n",
    });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(5);
    expect(run.stdout).toContain("from-shell-42");
  });
});
