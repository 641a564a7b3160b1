// The setup every integration test of the embedding API shares: before each test a fake model server,
// a scratch KILN_HOME, a temp git repository and a `Kiln` pointed at the server; after it, all of them
// closed and removed. Plus readers for what the model was sent.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kiln } from "@kiln/core";
import {
  createTempGitRepo,
  type FakeModelServer,
  startFakeModelServer,
  type TempGitRepo,
} from "@kiln/test-support";
import { afterEach, beforeEach } from "vitest";

/** What each test of a file starts with. */
export interface KilnHarnessOptions {
  /** Written to $KILN_HOME/config.toml before each test (none by default). */
  config?: string;
  /** `-c` overrides after the ones that point the `openai` provider at the fake server. */
  overrides?: string[];
  /** The temp repository's files (default: `a.txt` with "alpha\n"). */
  files?: Record<string, string>;
  /** Variables added to the environment Kiln sees (KILN_HOME and OPENAI_API_KEY are set). */
  env?: Record<string, string | undefined>;
}

/** An item of a recorded Responses request's `input`, with the fields the tests read. */
export interface RequestItem {
  type: string;
  role?: string;
  call_id?: string;
  output?: string;
  content?: { type?: string; text?: string }[];
}

/** A recorded Responses request body, with the fields the tests read. */
export interface RequestBody {
  input: RequestItem[];
  tools: { name: string }[];
}

/** The current test's fixtures (read them inside a test or hook) and readers of the model's requests. */
export interface KilnHarness {
  readonly server: FakeModelServer;
  /** The scratch KILN_HOME. */
  readonly home: string;
  readonly repo: TempGitRepo;
  /** A Kiln with the harness's options. */
  readonly kiln: Kiln;
  /** A new Kiln with `overrides` after the harness's. */
  kilnWith(...overrides: string[]): Kiln;
  /** Replaces $KILN_HOME/config.toml. */
  writeConfig(toml: string): Promise<void>;
  /** The body of request `index` (negative counts from the last); throws if there is none. */
  requestBody(index: number): RequestBody;
  /** The bodies of every request so far. */
  requestBodies(): RequestBody[];
  /** Request `index`'s input items. */
  requestInput(index: number): RequestItem[];
  /** Every function-call output the model got in request `index` (default: the last), in order. */
  toolOutputs(index?: number): string[];
  /** The output the model got back for its last tool call, of any kind (function or custom). */
  lastToolOutput(): string;
  /** The texts of request `index`'s messages of `role`, in order. */
  messages(index: number, role: string): string[];
}

/** Registers `beforeEach`/`afterEach` that give every test of the file fresh fixtures. */
export function useKilnHarness(options: KilnHarnessOptions = {}): KilnHarness {
  let server: FakeModelServer | undefined;
  let home: string | undefined;
  let repo: TempGitRepo | undefined;
  let kiln: Kiln | undefined;

  beforeEach(async () => {
    server = await startFakeModelServer({ scenario: { steps: [] } });
    home = await mkdtemp(join(tmpdir(), "kiln-home-"));
    repo = await createTempGitRepo(options.files ?? { "a.txt": "alpha\n" });
    if (options.config !== undefined) await writeConfig(options.config);
    kiln = kilnWith();
  });

  afterEach(async () => {
    await server?.close();
    await repo?.cleanup();
    if (home !== undefined) await rm(home, { recursive: true, force: true });
    server = home = repo = kiln = undefined;
  });

  const current = <T>(value: T | undefined, name: string): T => {
    if (value === undefined) throw new Error(`the harness's ${name} exists only while a test runs`);
    return value;
  };

  function kilnWith(...overrides: string[]): Kiln {
    return new Kiln({
      env: { ...options.env, KILN_HOME: current(home, "home"), OPENAI_API_KEY: "k" },
      overrides: [
        `openai_base_url="${current(server, "server").url}"`,
        "model_providers.openai.retry_base_delay_ms=10",
        ...(options.overrides ?? []),
        ...overrides,
      ],
    });
  }

  function writeConfig(toml: string): Promise<void> {
    return writeFile(join(current(home, "home"), "config.toml"), toml);
  }

  function requestBody(index: number): RequestBody {
    const recorded = current(server, "server").requests.at(index);
    if (recorded === undefined) throw new Error(`the model got no request #${index}`);
    return recorded.body as RequestBody;
  }

  const requestInput = (index: number): RequestItem[] => requestBody(index).input;

  return {
    get server() {
      return current(server, "server");
    },
    get home() {
      return current(home, "home");
    },
    get repo() {
      return current(repo, "repo");
    },
    get kiln() {
      return current(kiln, "kiln");
    },
    kilnWith,
    writeConfig,
    requestBody,
    requestBodies: () => current(server, "server").requests.map((r) => r.body as RequestBody),
    requestInput,
    toolOutputs: (index = -1) =>
      requestInput(index)
        .filter((i) => i.type === "function_call_output")
        .map((i) => i.output ?? ""),
    lastToolOutput: () =>
      requestInput(-1)
        .filter((i) => i.type.endsWith("_call_output"))
        .at(-1)?.output ?? "",
    messages: (index, role) =>
      requestInput(index)
        .filter((i) => i.type === "message" && i.role === role)
        .map((i) => i.content?.map((c) => c.text ?? "").join("") ?? ""),
  };
}
