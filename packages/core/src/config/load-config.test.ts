import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type ErrorInfo, KilnError } from "@kiln/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { kilnHomeFrom, type LoadConfigOptions, loadConfig, parseOverride } from "./load-config.ts";

let home: string;
let repo: string;
let globalFile: string;
let projectFile: string;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), "kiln-home-"));
  repo = mkdtempSync(join(tmpdir(), "kiln-repo-"));
  mkdirSync(join(repo, ".git"));
  mkdirSync(join(repo, ".kiln"));
  globalFile = join(home, "config.toml");
  projectFile = join(repo, ".kiln", "config.toml");
});

afterEach(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(repo, { recursive: true, force: true });
});

function load(options: Partial<LoadConfigOptions> = {}) {
  return loadConfig({ cwd: repo, ...options, env: { KILN_HOME: home, ...options.env } });
}

function errorOf(fn: () => unknown): ErrorInfo {
  try {
    fn();
  } catch (error) {
    if (error instanceof KilnError) return error.toInfo();
    throw error;
  }
  throw new Error("expected a KilnError, but nothing was thrown");
}

const openai = {
  name: "OpenAI",
  base_url: "https://api.openai.com/v1",
  wire_api: "responses",
  env_key: "OPENAI_API_KEY",
  stream_max_retries: 5,
  retry_base_delay_ms: 250,
  stream_idle_timeout_ms: 300_000,
};

describe("kilnHomeFrom", () => {
  it("uses $KILN_HOME, resolved to an absolute path", () => {
    expect(kilnHomeFrom({ KILN_HOME: home })).toBe(home);
    expect(kilnHomeFrom({ KILN_HOME: "rel/home" })).toBe(resolve("rel/home"));
  });

  it("falls back to ~/.kiln when $KILN_HOME is unset or empty", () => {
    expect(kilnHomeFrom({})).toBe(join(homedir(), ".kiln"));
    expect(kilnHomeFrom({ KILN_HOME: "" })).toBe(join(homedir(), ".kiln"));
  });
});

describe("parseOverride", () => {
  it("parses the value as TOML and nests dotted keys", () => {
    expect(parseOverride('model="x"')).toEqual({ raw: 'model="x"', values: { model: "x" } });
    expect(parseOverride("sandbox_workspace_write.network_access=true")).toEqual({
      raw: "sandbox_workspace_write.network_access=true",
      values: { sandbox_workspace_write: { network_access: true } },
    });
    expect(parseOverride('a.b.c=["x", 2]')).toEqual({
      raw: 'a.b.c=["x", 2]',
      values: { a: { b: { c: ["x", 2] } } },
    });
    expect(parseOverride("project_doc_max_bytes = 10")).toEqual({
      raw: "project_doc_max_bytes = 10",
      values: { project_doc_max_bytes: 10 },
    });
  });

  it("keeps a value that is not TOML as a plain string", () => {
    expect(parseOverride("model=gpt-5-mini")).toEqual({
      raw: "model=gpt-5-mini",
      values: { model: "gpt-5-mini" },
    });
    expect(parseOverride("approval_policy=never").values).toEqual({ approval_policy: "never" });
  });

  it("rejects an override without a key and an equals sign", () => {
    for (const raw of ["model", "=x"]) {
      expect(errorOf(() => parseOverride(raw))).toEqual({
        code: "config_invalid",
        message: `-c ${raw}: expected key=value, e.g. -c model="gpt-5.5"`,
        retryable: false,
      });
    }
  });
});

/** What loadConfig resolves with no file, override or flag. */
/** The global-config table that trusts the test repository's own .kiln/config.toml. */
function trust(): string {
  return `[projects."${repo}"]\ntrust_level = "trusted"\n`;
}

function defaults() {
  return {
    kilnHome: home,
    model: "gpt-5.5",
    modelProviderId: "openai",
    modelProvider: openai,
    apiKey: undefined,
    apiKeyEnv: "OPENAI_API_KEY",
    approvalPolicy: "on-request",
    sandboxMode: "workspace-write",
    mode: "code",
    networkAccess: false,
    writableRoots: [],
    reasoningEffort: undefined,
    reasoningSummary: undefined,
    projectDocMaxBytes: 32 * 1024,
    modelContextWindow: undefined,
    toolOutputTokenLimit: 10_000,
    mcpServers: {},
    hooks: { session_start: [], pre_tool_use: [], post_tool_use: [], stop: [] },
    limits: {
      maxTurnTokens: undefined,
      maxThreadCostUsd: undefined,
      repeatedFailureLimit: 3,
      autoCompactTokenLimit: undefined,
      autoCompactShare: 0.8,
      maxCompactionsPerTurn: 2,
      subAgentMaxDepth: 2,
      subAgentMaxConcurrent: 4,
    },
    price: undefined,
    prices: {},
    warnings: [],
    sources: [],
  };
}

describe("loadConfig", () => {
  it("resolves gpt-5.5 on openai, workspace-write, on-request and a 32 KiB doc cap when no file exists", () => {
    expect(load()).toEqual(defaults());
  });

  it("layers global, project, profile, -c overrides and flags in that order", () => {
    writeFileSync(
      globalFile,
      `model = "global"
approval_policy = "untrusted"
sandbox_mode = "read-only"
mode = "plan"
model_reasoning_effort = "low"
model_reasoning_summary = "concise"
project_doc_max_bytes = 100
${trust()}
[profiles.fast]
model = "profile"
model_reasoning_effort = "minimal"
approval_policy = "on-failure"
`,
    );
    writeFileSync(
      projectFile,
      'model = "project"\napproval_policy = "never"\nsandbox_mode = "danger-full-access"\n',
    );
    const config = load({
      profile: "fast",
      overrides: ['model="override"', 'model_reasoning_effort="high"', "tool_output_token_limit=500"],
      flags: { model: "flag", sandbox_mode: undefined },
    });

    expect(config).toEqual({
      ...defaults(),
      model: "flag",
      approvalPolicy: "on-failure",
      sandboxMode: "danger-full-access",
      mode: "plan",
      reasoningEffort: "high",
      reasoningSummary: "concise",
      projectDocMaxBytes: 100,
      toolOutputTokenLimit: 500,
      sources: [globalFile, projectFile],
    });
  });

  it("merges tables across files and finds the project file from a subdirectory", () => {
    writeFileSync(
      globalFile,
      `model = "global"\n${trust()}\n[sandbox_workspace_write]\nwritable_roots = ["/a"]\n`,
    );
    writeFileSync(projectFile, "[sandbox_workspace_write]\nnetwork_access = true\n");
    const sub = join(repo, "src", "deep");
    mkdirSync(sub, { recursive: true });

    expect(load({ cwd: sub })).toEqual({
      ...defaults(),
      model: "global",
      networkAccess: true,
      writableRoots: ["/a"],
      sources: [globalFile, projectFile],
    });
  });

  it("ignores what an untrusted project may not set (hooks, servers, providers, sandbox) and says so", () => {
    writeFileSync(
      projectFile,
      'model = "project"\nsandbox_mode = "danger-full-access"\napproval_policy = "never"\n[[hooks.session_start]]\ncommand = "touch /tmp/pwned"\n',
    );
    const config = load();
    expect(config).toMatchObject({
      model: "project",
      sandboxMode: "workspace-write",
      approvalPolicy: "on-request",
    });
    expect(config.hooks.session_start).toEqual([]);
    expect(config.warnings).toEqual([
      `${projectFile}: ignored sandbox_mode, approval_policy, hooks (a project's config may not set these unless you trust it: add [projects."${repo}"] trust_level = "trusted" to $KILN_HOME/config.toml)`,
    ]);
  });

  it("does not look for a project file above the repository root", () => {
    const inner = join(repo, "inner");
    mkdirSync(join(inner, ".git"), { recursive: true });
    writeFileSync(projectFile, 'model = "outer"\n');

    expect(load({ cwd: inner })).toEqual(defaults());
  });

  it("selects the profile named by the profile key when --profile is not given", () => {
    writeFileSync(
      globalFile,
      'profile = "deep"\n[profiles.deep]\nmodel = "o-deep"\n[profiles.other]\nmodel = "o"\n',
    );

    expect(load()).toEqual({ ...defaults(), model: "o-deep", sources: [globalFile] });
    expect(load({ profile: "other" })).toEqual({ ...defaults(), model: "o", sources: [globalFile] });
  });

  // BUG: the profile is chosen from the files before `-c` overrides are applied, so `-c profile="x"`
  // is silently ignored (Codex applies `-c` first, then picks the profile).
  it("selects the profile named by a -c profile override", () => {
    writeFileSync(globalFile, '[profiles.deep]\nmodel = "o-deep"\n');

    expect(load({ overrides: ['profile="deep"'] }).model).toBe("o-deep");
  });

  it("parses -c values as TOML and keeps a bare word as a string", () => {
    const overrides = [
      "model=my-model",
      "sandbox_workspace_write.network_access=true",
      'approval_policy="never"',
    ];

    expect(load({ overrides })).toEqual({
      ...defaults(),
      model: "my-model",
      networkAccess: true,
      approvalPolicy: "never",
    });
  });

  it("resolves a user-defined chat provider with its own key variable", () => {
    writeFileSync(
      globalFile,
      `model_provider = "local"
[model_providers.local]
name = "Local"
base_url = "http://127.0.0.1:8080/v1/"
wire_api = "chat"
env_key = "LOCAL_KEY"
stream_max_retries = 0
`,
    );
    const provider = { ...openai, name: "Local", base_url: "http://127.0.0.1:8080/v1", wire_api: "chat" };
    const local = { ...defaults(), modelProviderId: "local", apiKeyEnv: "LOCAL_KEY", sources: [globalFile] };
    const modelProvider = { ...provider, env_key: "LOCAL_KEY", stream_max_retries: 0 };

    expect(load({ env: { LOCAL_KEY: "sk-local", OPENAI_API_KEY: "sk-openai" } })).toEqual({
      ...local,
      modelProvider,
      apiKey: "sk-local",
    });
    expect(load({ env: { LOCAL_KEY: "" } })).toEqual({ ...local, modelProvider, apiKey: undefined });
  });

  it("resolves the built-in ollama provider without a key", () => {
    const { env_key: _, ...noKey } = openai;

    expect(load({ overrides: ['model_provider="ollama"'] })).toEqual({
      ...defaults(),
      modelProviderId: "ollama",
      modelProvider: { ...noKey, name: "Ollama", base_url: "http://localhost:11434/v1", wire_api: "chat" },
      apiKeyEnv: undefined,
    });
  });

  it("takes openai_base_url as the built-in openai provider's base URL", () => {
    writeFileSync(globalFile, 'openai_base_url = "http://127.0.0.1:9999/v1"\n');

    expect(load().modelProvider).toEqual({ ...openai, base_url: "http://127.0.0.1:9999/v1" });
  });

  it("reads the openai key from CODEX_API_KEY (what the Codex SDK passes), else OPENAI_API_KEY", () => {
    const key = (env: Record<string, string>) => load({ env }).apiKey;

    expect(key({ OPENAI_API_KEY: "sk-a", CODEX_API_KEY: "sk-b" })).toBe("sk-b");
    expect(key({ OPENAI_API_KEY: "sk-a" })).toBe("sk-a");
    expect(key({ CODEX_API_KEY: "sk-b" })).toBe("sk-b");
    expect(key({ CODEX_API_KEY: "", OPENAI_API_KEY: "sk-a" })).toBe("sk-a");
    expect(key({})).toBeUndefined();
  });

  // BUG: `CODEX_API_KEY || OPENAI_API_KEY` yields "" when both are set but empty, so `kiln doctor` says
  // the key "is set" and the model client sends an empty bearer token instead of saying "not set".
  // A user provider's empty env_key variable already counts as unset.
  it("treats an empty OPENAI_API_KEY and CODEX_API_KEY as no key, as for other providers", () => {
    expect(load({ env: { OPENAI_API_KEY: "", CODEX_API_KEY: "" } }).apiKey).toBeUndefined();
  });

  it("keeps mcp_servers tables as given", () => {
    writeFileSync(globalFile, '[mcp_servers.docs]\ncommand = "docs-mcp"\nargs = ["--stdio"]\n');

    expect(load().mcpServers).toEqual({ docs: { command: "docs-mcp", args: ["--stdio"] } });
  });

  it("names the file when it is not valid TOML", () => {
    writeFileSync(projectFile, "model = \n");

    expect(errorOf(() => load())).toEqual({
      code: "config_invalid",
      message: `${projectFile} is not valid TOML: Invalid TOML document: invalid value`,
      retryable: false,
      details: { file: projectFile },
    });
  });

  it("names the file and the key and says what is expected for a wrong value", () => {
    writeFileSync(globalFile, 'approval_policy = "sometimes"\n');

    expect(errorOf(() => load())).toEqual({
      code: "config_invalid",
      message: `${globalFile}: key "approval_policy": Invalid option: expected one of "untrusted"|"on-failure"|"on-request"|"never" (found "sometimes")`,
      retryable: false,
      details: { source: globalFile, key: "approval_policy" },
    });
  });

  it("names the file and the key for a value of the wrong type", () => {
    writeFileSync(globalFile, trust());
    writeFileSync(projectFile, "sandbox_mode = 3\n");
    const error = errorOf(() => load());

    expect(error).toMatchObject({
      code: "config_invalid",
      details: { source: projectFile, key: "sandbox_mode" },
    });
    expect(error.message).toContain(`${projectFile}: key "sandbox_mode": `);
    expect(error.message).toContain('"read-only"|"workspace-write"|"danger-full-access"');
    expect(error.message).toContain("(found 3)");
  });

  it("names the nested key of a wrong value inside a profile", () => {
    writeFileSync(globalFile, '[profiles.fast]\nsandbox_mode = "open"\n');

    expect(errorOf(() => load()).details).toEqual({ source: globalFile, key: "profiles.fast.sandbox_mode" });
  });

  it("names the -c override or the flags when they hold a wrong value", () => {
    expect(errorOf(() => load({ overrides: ["sandbox_workspace_write.network_access=yes"] }))).toMatchObject({
      code: "config_invalid",
      message: expect.stringMatching(
        /^-c sandbox_workspace_write\.network_access=yes: key "sandbox_workspace_write\.network_access": .* \(found "yes"\)$/,
      ),
      details: {
        source: "-c sandbox_workspace_write.network_access=yes",
        key: "sandbox_workspace_write.network_access",
      },
    });
    expect(errorOf(() => load({ flags: { sandbox_mode: "nope" } }))).toMatchObject({
      code: "config_invalid",
      details: { source: "command-line flags", key: "sandbox_mode" },
    });
  });

  it("lists the defined profiles when the selected one does not exist", () => {
    writeFileSync(globalFile, "[profiles.fast]\n[profiles.deep]\n");

    expect(errorOf(() => load({ profile: "slow" }))).toEqual({
      code: "config_invalid",
      message: `profile "slow" is not defined: add a [profiles.slow] table to ${globalFile} (defined: fast, deep)`,
      retryable: false,
    });
  });

  it("points at the global config file for an unknown profile when no file exists", () => {
    expect(errorOf(() => load({ profile: "x" })).message).toBe(
      `profile "x" is not defined: add a [profiles.x] table to ${globalFile}`,
    );
  });

  it("rejects an unknown model provider and lists the built-in ones", () => {
    expect(errorOf(() => load({ overrides: ['model_provider="acme"'] }))).toEqual({
      code: "config_invalid",
      message:
        'model_provider "acme" is not defined: add [model_providers.acme] with base_url and wire_api to config.toml (built-in providers: openai, ollama, lmstudio, anthropic)',
      retryable: false,
    });
  });

  it("rejects a user-defined provider without a base URL", () => {
    writeFileSync(globalFile, 'model_provider = "acme"\n[model_providers.acme]\nwire_api = "chat"\n');

    expect(errorOf(() => load())).toEqual({
      code: "config_invalid",
      message: "model_providers.acme.base_url is missing: set it in config.toml",
      retryable: false,
      details: { key: "model_providers.acme.base_url" },
    });
  });

  it("rejects a -c override without an equals sign", () => {
    expect(errorOf(() => load({ overrides: ["model"] })).message).toBe(
      '-c model: expected key=value, e.g. -c model="gpt-5.5"',
    );
  });
});
