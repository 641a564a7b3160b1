// The remote commands' tests: a whole Kiln server in this process (server-harness.ts: real SQLite, auth,
// executor with bwrap sandboxes, the fake model), a user, and the built `kiln` CLI run as a child
// process with its own KILN_HOME against the server's URL.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTempGitRepo, type Scenario, type TempGitRepo } from "@kiln/test-support";
import { startTestServer, type TestServer, type TestUser } from "../../server/test/server-harness.ts";
import { type KilnRun, runKiln } from "./run-kiln.ts";

/** A running server, a user of it, and a scratch KILN_HOME for the CLI. */
export interface RemoteCli {
  t: TestServer;
  alice: TestUser;
  /** The CLI's KILN_HOME (and HOME). */
  home: string;
  /** The CLI's environment: PATH, HOME, KILN_HOME, LANG (no KILN_SERVER). */
  env: Record<string, string>;
  /** Runs `kiln ARGS` (in a scratch directory unless `cwd` is given). */
  kiln(
    args: string[],
    options?: { cwd?: string; stdin?: string; env?: Record<string, string> },
  ): Promise<KilnRun>;
  /** A temp directory, removed by close(). */
  scratch(prefix: string): Promise<string>;
  /** `kiln login` as alice with --password-stdin; throws if it fails. */
  login(): Promise<void>;
  /** A git repository with `files` and an environment named `name` made from it over the API. */
  createEnvironment(name: string, files: Record<string, string>): Promise<{ id: string; repo: TempGitRepo }>;
  /** Creates a task over the API with the model playing `scenario`, and waits for it to end. */
  runTask(environmentId: string, prompt: string, scenario: Scenario): Promise<{ id: string; status: string }>;
  close(): Promise<void>;
}

/** Starts the server and makes the CLI's home (see the module comment). */
export async function startRemoteCli(): Promise<RemoteCli> {
  const t = await startTestServer();
  const alice = await t.addUser("alice");
  const cleanups: (() => Promise<void>)[] = [];
  const scratch = async (prefix: string) => {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    return dir;
  };
  const home = await scratch("kiln-cli-home-");
  const work = await scratch("kiln-cli-cwd-");
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, KILN_HOME: home, LANG: "C.UTF-8" };
  const kiln: RemoteCli["kiln"] = (args, options = {}) =>
    runKiln(args, {
      cwd: options.cwd ?? work,
      env: options.env ?? env,
      ...(options.stdin === undefined ? {} : { stdin: options.stdin }),
    });
  return {
    t,
    alice,
    home,
    env,
    kiln,
    scratch,
    async login() {
      const run = await kiln(["login", "--server", t.url, "--username", "alice", "--password-stdin"], {
        stdin: "alice-password\n",
      });
      if (run.code !== 0) throw new Error(`kiln login failed: ${run.stderr}`);
    },
    async createEnvironment(name, files) {
      const repo = await createTempGitRepo(files);
      cleanups.push(repo.cleanup);
      const created = await t.call(alice, "POST", "/api/v1/environments", { name, repository: repo.dir });
      if (created.status !== 201)
        throw new Error(`could not create ${name}: ${JSON.stringify(created.body)}`);
      return { id: created.body.id as string, repo };
    },
    async runTask(environmentId, prompt, scenario) {
      t.model.setScenario(scenario);
      const created = await t.call(alice, "POST", "/api/v1/tasks", { environmentId, prompt, title: prompt });
      if (created.status !== 201)
        throw new Error(`could not create the task: ${JSON.stringify(created.body)}`);
      for (let i = 0; i < 400; i++) {
        const task = (await t.call(alice, "GET", `/api/v1/tasks/${created.body.id}`)).body;
        if (["completed", "failed", "cancelled"].includes(task.status)) return task;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`task ${created.body.id} did not end`);
    },
    async close() {
      await t.close();
      for (const cleanup of cleanups.reverse()) await cleanup();
    },
  };
}

/** The fake model's script for an agent that writes `hello.txt` and says it is done. */
export const WRITE_HELLO: Scenario = {
  steps: [
    { output: [{ type: "exec_command", cmd: "echo hi > hello.txt" }] },
    { output: [{ type: "message", text: "Wrote hello.txt." }] },
  ],
};
