// Runs the real bundled `kiln` CLI as a child process against a fake model server, with its own
// KILN_HOME, and parses what it prints; `useCliHarness` gives every test of a file that server and home.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ExecEvent } from "@kiln/protocol";
import {
  createTempGitRepo,
  type FakeModelServer,
  startFakeModelServer,
  type TempGitRepo,
} from "@kiln/test-support";
import { afterEach, beforeEach } from "vitest";

export const KILN_BIN = fileURLToPath(new URL("../dist/kiln.js", import.meta.url));

/** What a finished `kiln` process left behind. */
export interface KilnRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as `--json` lines, each checked against the ExecEvent schema. */
  events: ExecEvent[];
}

/** A scratch KILN_HOME and the environment a run needs to reach the fake model server. */
export interface KilnEnv {
  home: string;
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

/** A fresh KILN_HOME whose `openai` provider points at `modelUrl`, with fast retries. */
export async function kilnEnv(modelUrl: string): Promise<KilnEnv> {
  const home = await mkdtemp(join(tmpdir(), "kiln-home-"));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    KILN_HOME: home,
    OPENAI_API_KEY: "test-key",
    LANG: "C.UTF-8",
  };
  const { writeFile } = await import("node:fs/promises");
  await writeFile(
    join(home, "config.toml"),
    `model = "gpt-5.5"\nopenai_base_url = "${modelUrl}"\napproval_policy = "never"\n\n[model_providers.openai]\nretry_base_delay_ms = 20\n`,
  );
  return { home, env, cleanup: () => rm(home, { recursive: true, force: true }) };
}

/** Starts `kiln ARGS` in `cwd`. */
export function startKiln(
  args: string[],
  options: { cwd: string; env: Record<string, string>; stdin?: string },
): ChildProcess {
  const child = spawn(process.execPath, [KILN_BIN, ...args], {
    cwd: options.cwd,
    env: options.env,
    stdio: ["pipe", "pipe", "pipe"],
  });
  child.stdin?.end(options.stdin ?? "");
  return child;
}

/** Collects a started process's output until it exits. */
export function finish(child: ChildProcess): Promise<KilnRun> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve) => {
    child.on("close", (code, signal) => {
      resolve({
        code,
        signal,
        stdout,
        stderr,
        // Parsed on first use, so a test of non-JSON output never trips over it (and a parse error
        // fails the test that asked, instead of being lost in an event handler).
        get events() {
          return stdout
            .split("\n")
            .filter((l) => l !== "")
            .map((l) => ExecEvent.parse(JSON.parse(l)));
        },
      });
    });
  });
}

/** Runs `kiln ARGS` to completion. */
export function runKiln(
  args: string[],
  options: { cwd: string; env: Record<string, string>; stdin?: string },
): Promise<KilnRun> {
  return finish(startKiln(args, options));
}

/** An item of a recorded Responses request's `input`, with the fields the tests read. */
export interface RequestItem {
  type: string;
  role?: string;
  output?: string;
  content?: { text: string }[];
}

/** A recorded Responses request body, with the fields the tests read. */
export interface RequestBody {
  input: RequestItem[];
  tools: { name: string; type: string }[];
}

/** The current test's fake model server and KILN_HOME (read them inside a test or hook), and scratch space. */
export interface CliHarness {
  readonly server: FakeModelServer;
  readonly home: KilnEnv;
  /** A temp git repository with `files`, removed after the test. */
  tempRepo(files: Record<string, string>): Promise<TempGitRepo>;
  /** A temp directory named `prefix…` under the OS temp dir, removed after the test. */
  tempDir(prefix: string): Promise<string>;
  /** The body of request `index` (negative counts from the last); throws if there is none. */
  requestBody(index: number): RequestBody;
}

/**
 * Registers `beforeEach`/`afterEach` that start a fake model server and a {@link kilnEnv} pointed at it
 * for every test of the file, and remove them (and what `tempRepo`/`tempDir` made) afterwards.
 */
export function useCliHarness(): CliHarness {
  let server: FakeModelServer | undefined;
  let home: KilnEnv | undefined;
  let scratch: (() => Promise<void>)[] = [];

  beforeEach(async () => {
    scratch = [];
    server = await startFakeModelServer({ scenario: { steps: [] } });
    home = await kilnEnv(server.url);
  });

  afterEach(async () => {
    for (const remove of scratch.reverse()) await remove();
    await server?.close();
    await home?.cleanup();
    server = home = undefined;
  });

  const current = <T>(value: T | undefined, name: string): T => {
    if (value === undefined) throw new Error(`the harness's ${name} exists only while a test runs`);
    return value;
  };

  return {
    get server() {
      return current(server, "server");
    },
    get home() {
      return current(home, "home");
    },
    async tempRepo(files) {
      const repo = await createTempGitRepo(files);
      scratch.push(repo.cleanup);
      return repo;
    },
    async tempDir(prefix) {
      const dir = await mkdtemp(join(tmpdir(), prefix));
      scratch.push(() => rm(dir, { recursive: true, force: true }));
      return dir;
    },
    requestBody(index) {
      const recorded = current(server, "server").requests.at(index);
      if (recorded === undefined) throw new Error(`the model got no request #${index}`);
      return recorded.body as RequestBody;
    },
  };
}
