import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { TaskEvent } from "@kiln/protocol";
import { createTempGitRepo, type TempGitRepo } from "@kiln/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collectOutput } from "../collect-output.ts";
import { createSandboxProvider } from "../sandbox-provider.ts";
import { copyWorkspace } from "./copy-workspace.ts";
import {
  connectionCounter,
  eventLog,
  git,
  preparedEntries,
  removeTempDirs,
  tempDir,
} from "./environment-test-helpers.ts";
import type { PrepareEnvironmentOptions } from "./environment-types.ts";
import { prepareEnvironment } from "./prepare-environment.ts";
import { workspaceDiff } from "./workspace-diff.ts";

const provider = createSandboxProvider("workspace-write");
const asRoot = process.getuid?.() === 0;
let repo: TempGitRepo;
let counter: Awaited<ReturnType<typeof connectionCounter>>;

// The setup reports each run to the counter, installs "dependencies" and writes build output.
const setupScript = [
  'exec 3<>"/dev/tcp/127.0.0.1/$COUNTER_PORT"',
  'echo "installing for $GREETING"',
  "mkdir -p node_modules/left-pad && echo 'module.exports = 1' > node_modules/left-pad/index.js",
  "echo built > build.txt",
  "echo done",
].join("\n");

function options(
  cacheDir: string,
  overrides: Partial<PrepareEnvironmentOptions> = {},
): PrepareEnvironmentOptions {
  return {
    repository: repo.dir,
    branch: "main",
    setupScript,
    env: { GREETING: "kiln", COUNTER_PORT: String(counter.port) },
    secrets: {},
    setupTimeoutMs: 15_000,
    cacheDir,
    provider,
    ...overrides,
  };
}

beforeAll(async () => {
  counter = await connectionCounter();
  repo = await createTempGitRepo({
    "README.md": "# demo\n",
    ".gitignore": "*.log\n",
    "package-lock.json": '{"lockfileVersion": 3}\n',
  });
});

afterAll(async () => {
  counter.close();
  await repo.cleanup();
  await removeTempDirs();
});

describe("prepareEnvironment", () => {
  it("clones the branch, runs the setup script in the sandbox and streams its output as log events", async () => {
    const cacheDir = await tempDir("kiln-env-cache-");
    const log = eventLog();
    const head = (await repo.git("rev-parse", "HEAD")).trim();
    const runsBefore = counter.count();

    const prepared = await prepareEnvironment({ ...options(cacheDir), onEvent: log.onEvent });

    expect(prepared).toEqual({
      dir: join(cacheDir, "prepared", prepared.cacheKey),
      baseCommit: head,
      cacheKey: expect.stringMatching(/^[0-9a-f]{64}$/),
      cached: false,
    });
    expect(log.phases()).toEqual([
      "clone:started",
      "clone:completed",
      "setup:started",
      "setup:completed",
      "ready:completed",
    ]);
    expect(
      log.events.find(
        (event) => event.type === "phase" && event.phase === "clone" && event.status === "completed",
      ),
    ).toEqual({
      type: "phase",
      phase: "clone",
      status: "completed",
      baseCommit: head,
      cacheKey: prepared.cacheKey,
      durationMs: expect.any(Number),
    });
    expect(log.logText()).toBe("installing for kiln\ndone\n");
    expect(counter.count() - runsBefore).toBe(1);
    // Each event is a task event once its type is renamed, and loses nothing in the schema.
    for (const event of log.events) {
      const taskEvent = { ...event, type: event.type === "phase" ? "environment/phase" : "environment/log" };
      expect(TaskEvent.parse(taskEvent)).toEqual(taskEvent);
    }

    // The tree is the branch at its commit, with the setup's output excluded from git's view.
    expect(await readFile(join(prepared.dir, "build.txt"), "utf8")).toBe("built\n");
    expect(await git(prepared.dir, "status", "--porcelain", "--untracked-files=all")).toBe("");
    expect((await git(prepared.dir, "rev-parse", "--abbrev-ref", "HEAD")).trim()).toBe("main");
    expect((await git(prepared.dir, "remote", "get-url", "origin")).trim()).toBe(repo.dir);
    expect(await readFile(join(prepared.dir, ".git", "info", "exclude"), "utf8")).toContain(
      "\n/build.txt\n/node_modules/\n",
    );
    expect(await preparedEntries(cacheDir)).toEqual([prepared.cacheKey]);
    if (asRoot) expect((await stat(join(prepared.dir, "build.txt"))).uid).toBe(61000);
  });

  it("reuses a prepared environment for the same commit, script and variables, skipping the setup", async () => {
    const cacheDir = await tempDir("kiln-env-cache-");
    const first = await prepareEnvironment(options(cacheDir));
    const runsBefore = counter.count();
    const log = eventLog();

    // A different secret value must not invalidate the cache.
    const second = await prepareEnvironment({
      ...options(cacheDir, { secrets: { TOKEN: "rotated" } }),
      onEvent: log.onEvent,
    });

    expect(second).toEqual({ ...first, cached: true });
    expect(counter.count()).toBe(runsBefore);
    expect(log.phases()).toEqual(["clone:started", "clone:completed", "setup:skipped", "ready:completed"]);
    expect(log.events.filter((event) => event.type === "phase" && event.phase !== "clone")).toEqual([
      { type: "phase", phase: "setup", status: "skipped", cacheKey: first.cacheKey },
      {
        type: "phase",
        phase: "ready",
        status: "completed",
        cacheKey: first.cacheKey,
        baseCommit: first.baseCommit,
      },
    ]);
  });

  it("prepares anew when the branch moves, a lockfile changes or an environment variable changes", async () => {
    const cacheDir = await tempDir("kiln-env-cache-");
    const own = await createTempGitRepo({ "README.md": "one\n", "package-lock.json": "{}\n" });
    try {
      const base = { ...options(cacheDir), repository: own.dir };
      const first = await prepareEnvironment(base);

      await writeFile(join(own.dir, "README.md"), "two\n");
      await own.git("commit", "-qam", "docs");
      const afterCommit = await prepareEnvironment(base);

      await writeFile(join(own.dir, "package-lock.json"), '{"packages": {}}\n');
      await own.git("commit", "-qam", "deps");
      const afterLockfile = await prepareEnvironment(base);

      const afterEnv = await prepareEnvironment({ ...base, env: { ...base.env, GREETING: "other" } });

      const keys = [first, afterCommit, afterLockfile, afterEnv].map((prepared) => prepared.cacheKey);
      expect(new Set(keys).size).toBe(4);
      expect([afterCommit, afterLockfile, afterEnv].map((prepared) => prepared.cached)).toEqual([
        false,
        false,
        false,
      ]);
      expect(afterCommit.baseCommit).not.toBe(first.baseCommit);
      expect(await readFile(join(afterLockfile.dir, "package-lock.json"), "utf8")).toBe('{"packages": {}}\n');
      expect(await preparedEntries(cacheDir)).toEqual([...keys].sort());
    } finally {
      await own.cleanup();
    }
  });

  it("gives secrets to the setup script but masks their values in its log", async () => {
    const cacheDir = await tempDir("kiln-env-cache-");
    const log = eventLog();
    const script = [
      'test "$API_TOKEN" = "s3cr3t-value" && echo "token received"',
      'echo "the token is $API_TOKEN"',
    ].join("\n");

    await prepareEnvironment({
      ...options(cacheDir, { setupScript: script, secrets: { API_TOKEN: "s3cr3t-value" } }),
      onEvent: log.onEvent,
    });

    expect(log.logText()).toBe("token received\nthe token is ***\n");
  });

  it("logs at most 1 MiB of setup output and says the rest was cut", async () => {
    const cacheDir = await tempDir("kiln-env-cache-");
    const log = eventLog();
    // 300 000 lines of 6 bytes: 1.8 MB.
    const script = "yes hello | head -n 300000\necho finished";

    await prepareEnvironment({ ...options(cacheDir, { setupScript: script }), onEvent: log.onEvent });

    const text = log.logText();
    const notice =
      "\n[Kiln: the setup script printed more than 1024 KiB; the rest of its output is not logged.]\n";
    expect(text.endsWith(notice)).toBe(true);
    const kept = text.slice(0, -notice.length);
    expect(kept).toBe("hello\n".repeat(kept.length / 6));
    expect(Buffer.byteLength(kept)).toBeGreaterThan(1024 * 1024 - 6);
    expect(Buffer.byteLength(kept)).toBeLessThanOrEqual(1024 * 1024);
  });

  it("keeps files with unusual names that the setup created out of git's view", async () => {
    const cacheDir = await tempDir("kiln-env-cache-");
    const script = [
      "touch 'glob [1]*?.txt' '#hash' '!bang' 'trailing ' 'back\\slash'",
      "mkdir -p 'dir with space/sub' && touch 'dir with space/sub/file'",
    ].join("\n");

    const prepared = await prepareEnvironment(options(cacheDir, { setupScript: script }));

    const status = await git(
      prepared.dir,
      "status",
      "--porcelain",
      "-z",
      "--untracked-files=all",
      "--ignored",
    );
    // Each one is ignored (`!!`), none is untracked (`??`): the exclude patterns match them exactly.
    expect(
      status
        .split("\0")
        .filter((entry) => entry !== "")
        .sort(),
    ).toEqual(
      [
        "!! !bang",
        "!! #hash",
        "!! back\\slash",
        "!! dir with space/sub/file",
        "!! glob [1]*?.txt",
        "!! trailing ",
      ].sort(),
    );
  });

  it("runs the setup once for concurrent preparations of the same environment", async () => {
    const cacheDir = await tempDir("kiln-env-cache-");
    const runsBefore = counter.count();
    const logs = [eventLog(), eventLog()];

    const [a, b] = await Promise.all(
      logs.map((log) => prepareEnvironment({ ...options(cacheDir), onEvent: log.onEvent })),
    );

    expect(counter.count() - runsBefore).toBe(1);
    expect(b).toEqual(a);
    expect(await preparedEntries(cacheDir)).toEqual([a?.cacheKey]);
    for (const log of logs) {
      expect(log.phases()).toEqual([
        "clone:started",
        "clone:completed",
        "setup:started",
        "setup:completed",
        "ready:completed",
      ]);
      expect(log.logText()).toBe("installing for kiln\ndone\n");
    }
  });

  it("produces a tree whose copies sandboxed commands can change, with a clean diff until they do", async () => {
    const cacheDir = await tempDir("kiln-env-cache-");
    const prepared = await prepareEnvironment(options(cacheDir));
    const workspace = join(await tempDir("kiln-workspaces-"), "att_1");
    await copyWorkspace(prepared.dir, workspace);

    expect(await workspaceDiff(workspace, prepared.baseCommit)).toEqual({
      diff: "",
      stats: { filesModified: 0, linesAdded: 0, linesRemoved: 0 },
      files: [],
    });
    const child = await provider.spawn({
      argv: [
        "bash",
        "-ec",
        "echo 2 > node_modules/left-pad/index.js && echo changed >> README.md && cat build.txt",
      ],
      cwd: workspace,
      policy: { mode: "workspace-write", writableRoots: [workspace], networkAccess: false },
    });
    expect(await collectOutput(child)).toEqual({ output: "built\n", status: { exitCode: 0, signal: null } });
    const diff = await workspaceDiff(workspace, prepared.baseCommit);
    expect(diff.files).toEqual([
      { path: "README.md", kind: "modified", additions: 1, deletions: 0, binary: false },
    ]);
    // The prepared tree itself is untouched.
    expect(await readFile(join(prepared.dir, "README.md"), "utf8")).toBe("# demo\n");
  });
});
