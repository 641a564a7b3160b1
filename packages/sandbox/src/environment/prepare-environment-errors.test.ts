import { join } from "node:path";
import { KilnError } from "@kiln/protocol";
import { createTempGitRepo, type TempGitRepo } from "@kiln/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSandboxProvider } from "../sandbox-provider.ts";
import { eventLog, preparedEntries, removeTempDirs, tempDir } from "./environment-test-helpers.ts";
import type { PrepareEnvironmentOptions } from "./environment-types.ts";
import { prepareEnvironment } from "./prepare-environment.ts";

const provider = createSandboxProvider("workspace-write");
let repo: TempGitRepo;

function options(
  cacheDir: string,
  overrides: Partial<PrepareEnvironmentOptions> = {},
): PrepareEnvironmentOptions {
  return {
    repository: repo.dir,
    branch: "main",
    setupScript: "",
    env: {},
    secrets: {},
    setupTimeoutMs: 15_000,
    cacheDir,
    provider,
    setupNetwork: false,
    ...overrides,
  };
}

/** The KilnError a promise rejects with. */
async function failure(promise: Promise<unknown>): Promise<KilnError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof KilnError)) throw new Error(`expected a KilnError, got ${String(error)}`);
  return error;
}

beforeAll(async () => {
  repo = await createTempGitRepo({ "README.md": "# demo\n" });
  await repo.git("branch", "develop");
});

afterAll(async () => {
  await repo.cleanup();
  await removeTempDirs();
});

describe("prepareEnvironment when things go wrong", () => {
  it("reports a failing setup script with its exit code and last output, and keeps nothing", async () => {
    const cacheDir = await tempDir("kiln-env-cache-");
    const log = eventLog();
    const script = 'echo "compiling"\necho "error: missing header foo.h" >&2\nexit 3\necho "never printed"';

    const error = await failure(
      prepareEnvironment({ ...options(cacheDir, { setupScript: script }), onEvent: log.onEvent }),
    );

    expect(error.code).toBe("environment_failed");
    expect(error.message).toBe(
      "The setup script failed with exit code 3. Fix the script (or what it installs) and try again. " +
        "Its last output:\ncompiling\nerror: missing header foo.h",
    );
    expect(log.phases()).toEqual(["clone:started", "clone:completed", "setup:started", "setup:failed"]);
    expect(log.events.at(-1)).toEqual({
      type: "phase",
      phase: "setup",
      status: "failed",
      cacheKey: expect.any(String),
      durationMs: expect.any(Number),
      error: error.toInfo(),
    });
    expect(await preparedEntries(cacheDir)).toEqual([]);
  });

  it("stops a setup script that runs past its timeout, and keeps nothing", async () => {
    const cacheDir = await tempDir("kiln-env-cache-");
    const started = Date.now();

    const error = await failure(
      prepareEnvironment(
        options(cacheDir, { setupScript: 'echo "waiting for godot"\nsleep 60', setupTimeoutMs: 1500 }),
      ),
    );

    expect(Date.now() - started).toBeLessThan(10_000);
    expect(error.code).toBe("timeout");
    expect(error.message).toBe(
      "The setup script did not finish within 1.5 s and was stopped. Make it faster, or raise the " +
        "environment's setup timeout. Its last output:\nwaiting for godot",
    );
    expect(await preparedEntries(cacheDir)).toEqual([]);
  });

  it("kills the setup script when the caller aborts", async () => {
    const cacheDir = await tempDir("kiln-env-cache-");
    const controller = new AbortController();
    const log = eventLog();
    const onEvent: PrepareEnvironmentOptions["onEvent"] = (event) => {
      log.onEvent(event);
      if (event.type === "log" && event.text.includes("started")) controller.abort();
    };

    const error = await failure(
      prepareEnvironment({
        ...options(cacheDir, { setupScript: "echo started\nsleep 60" }),
        signal: controller.signal,
        onEvent,
      }),
    );

    expect(error.toInfo()).toEqual({
      code: "turn_interrupted",
      message: "Preparing the environment was cancelled.",
      retryable: false,
    });
    expect(log.phases()).toEqual(["clone:started", "clone:completed", "setup:started", "setup:failed"]);
    // The shared setup step cleans up after its last caller left.
    for (let i = 0; i < 50 && (await preparedEntries(cacheDir)).length > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await preparedEntries(cacheDir)).toEqual([]);
  });

  it("names the missing branch and lists the branches that exist", async () => {
    const cacheDir = await tempDir("kiln-env-cache-");
    const log = eventLog();

    const error = await failure(
      prepareEnvironment({ ...options(cacheDir, { branch: "feature/nope" }), onEvent: log.onEvent }),
    );

    expect(error.code).toBe("environment_failed");
    expect(error.message).toBe(
      `Branch "feature/nope" does not exist in ${repo.dir}: its branches are develop, main. ` +
        "Choose one of them, or push the branch first.",
    );
    expect(log.phases()).toEqual(["clone:started", "clone:failed"]);
  });

  it("says which repository could not be cloned, without the credentials in its URL", async () => {
    const cacheDir = await tempDir("kiln-env-cache-");
    const missing = join(cacheDir, "no-such-repo");

    const local = await failure(prepareEnvironment(options(cacheDir, { repository: missing })));
    const remote = await failure(
      prepareEnvironment(options(cacheDir, { repository: "http://kiln:hunter2@127.0.0.1:9/repo.git" })),
    );

    expect(local.code).toBe("environment_failed");
    expect(local.message).toContain(`Could not clone ${missing} (is it a git URL the server can reach`);
    expect(remote.code).toBe("environment_failed");
    expect(remote.message).toContain("Could not clone http://***@127.0.0.1:9/repo.git");
    expect(remote.message).not.toContain("hunter2");
  });
});
