// Loads Kiln's configuration: built-in defaults → $KILN_HOME/config.toml → the repository's
// .kiln/config.toml → the selected profile → `-c key=value` overrides → command-line flags. Every
// layer is checked on its own, so an error names the file (or flag) and the key at fault.
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { type ApprovalPolicy, type CollaborationMode, KilnError, type SandboxMode } from "@kiln/protocol";
import { parse as parseToml } from "smol-toml";
import type { z } from "zod";
import { HooksConfig } from "../hooks/hooks-config.ts";
import { ConfigFile, type ModelPrice, ModelProviderConfig, ProfileConfig } from "./config-schema.ts";

/** A configuration layer and where it came from. */
interface Layer {
  source: string;
  values: Record<string, unknown>;
}

/** The settings a thread runs with, fully resolved. */
export interface ResolvedConfig {
  kilnHome: string;
  model: string;
  modelProviderId: string;
  modelProvider: ModelProviderConfig & { base_url: string };
  /** The API key, when the provider's env var is set. */
  apiKey: string | undefined;
  /** The env var the key comes from (for error messages). */
  apiKeyEnv: string | undefined;
  approvalPolicy: ApprovalPolicy;
  sandboxMode: SandboxMode;
  mode: CollaborationMode;
  networkAccess: boolean;
  writableRoots: string[];
  reasoningEffort: string | undefined;
  reasoningSummary: string | undefined;
  projectDocMaxBytes: number;
  modelContextWindow: number | undefined;
  toolOutputTokenLimit: number;
  mcpServers: Record<string, Record<string, unknown>>;
  /** The user's hooks (`[[hooks.<event>]]`), every event's list empty when none are configured. */
  hooks: HooksConfig;
  /** Budgets, compaction and sub-agent limits of the agent loop. */
  limits: HarnessLimits;
  /** Price of the configured model, when `[prices]` has it. */
  price: ModelPrice | undefined;
  /** The whole price table (sub-agents may use other models). */
  prices: Record<string, ModelPrice>;
  /** Problems that did not stop loading (e.g. project keys ignored), for the user to see. */
  warnings: string[];
  /** Files that were read, in order. */
  sources: string[];
}

/** Limits of the agent loop. */
export interface HarnessLimits {
  maxTurnTokens: number | undefined;
  maxThreadCostUsd: number | undefined;
  repeatedFailureLimit: number;
  autoCompactTokenLimit: number | undefined;
  autoCompactShare: number;
  maxCompactionsPerTurn: number;
  subAgentMaxDepth: number;
  subAgentMaxConcurrent: number;
}

/** What the caller knows: where to look and what the user asked for on the command line. */
export interface LoadConfigOptions {
  cwd: string;
  env: Record<string, string | undefined>;
  profile?: string | undefined;
  /** `-c key=value` overrides, as typed. */
  overrides?: string[];
  /** Flags, already named as config keys (e.g. `{ model: "x", sandbox_mode: "read-only" }`). */
  flags?: Record<string, unknown>;
}

const DEFAULT_MODEL = "gpt-5.5";
/** A built-in provider whose models are not OpenAI's gets a default of its own. */
const DEFAULT_MODELS: Record<string, string> = { anthropic: "claude-sonnet-4-6" };

const BUILT_IN_PROVIDERS: Record<string, Partial<ModelProviderConfig>> = {
  openai: {
    name: "OpenAI",
    base_url: "https://api.openai.com/v1",
    wire_api: "responses",
    env_key: "OPENAI_API_KEY",
  },
  ollama: { name: "Ollama", base_url: "http://localhost:11434/v1", wire_api: "chat" },
  lmstudio: { name: "LM Studio", base_url: "http://localhost:1234/v1", wire_api: "chat" },
  anthropic: {
    name: "Anthropic",
    base_url: "https://api.anthropic.com",
    wire_api: "anthropic",
    env_key: "ANTHROPIC_API_KEY",
  },
};

/** `$KILN_HOME`, default `~/.kiln`. */
export function kilnHomeFrom(env: Record<string, string | undefined>): string {
  return env.KILN_HOME !== undefined && env.KILN_HOME !== ""
    ? resolve(env.KILN_HOME)
    : join(homedir(), ".kiln");
}

/** Loads and resolves the configuration; throws `KilnError("config_invalid")` naming file and key. */
export function loadConfig(options: LoadConfigOptions): ResolvedConfig {
  const kilnHome = kilnHomeFrom(options.env);
  const layers: Layer[] = [];
  const sources: string[] = [];
  const warnings: string[] = [];
  const globalFile = join(kilnHome, "config.toml");
  if (existsSync(globalFile)) {
    layers.push({ source: globalFile, values: readToml(globalFile) });
    sources.push(globalFile);
  }
  const projectFile = projectConfigPath(options.cwd);
  if (projectFile !== undefined) {
    const trusted = isTrustedProject(layers[0]?.values, dirname(dirname(projectFile)));
    const values = trusted
      ? readToml(projectFile)
      : untrustedProjectValues(readToml(projectFile), projectFile, warnings);
    layers.push({ source: projectFile, values });
    sources.push(projectFile);
  }
  for (const layer of layers) check(ConfigFile, layer);

  const overrides = (options.overrides ?? []).map((raw) => {
    const o = parseOverride(raw);
    const layer = { source: `-c ${o.raw}`, values: o.values };
    check(ConfigFile, layer);
    return layer;
  });
  // The profile is chosen after `-c` (as in Codex), so `-c profile="fast"` selects one.
  const merged = [...layers, ...overrides].reduce<Record<string, unknown>>(
    (acc, layer) => deepMerge(acc, layer.values),
    {},
  );
  const profileName = options.profile ?? (typeof merged.profile === "string" ? merged.profile : undefined);
  if (profileName !== undefined) {
    const profiles = (merged.profiles ?? {}) as Record<string, Record<string, unknown>>;
    const profile = profiles[profileName];
    if (profile === undefined) {
      const known = Object.keys(profiles);
      throw new KilnError(
        "config_invalid",
        `profile "${profileName}" is not defined: add a [profiles.${profileName}] table to ${sources.join(" or ") || join(kilnHome, "config.toml")}${known.length > 0 ? ` (defined: ${known.join(", ")})` : ""}`,
      );
    }
    layers.push({ source: `profile ${profileName}`, values: profile });
  }
  layers.push(...overrides);
  if (options.flags !== undefined) {
    const flags = Object.fromEntries(Object.entries(options.flags).filter(([, v]) => v !== undefined));
    const layer = { source: "command-line flags", values: flags };
    check(ConfigFile, layer);
    layers.push(layer);
  }

  const all = layers.reduce<Record<string, unknown>>((acc, layer) => deepMerge(acc, layer.values), {});
  const config = ConfigFile.parse(all);
  return { ...resolveConfig(config, kilnHome, options.env, sources), warnings };
}

function resolveConfig(
  config: ConfigFile,
  kilnHome: string,
  env: Record<string, string | undefined>,
  sources: string[],
): Omit<ResolvedConfig, "warnings"> {
  const providerId = config.model_provider ?? "openai";
  const builtIn = BUILT_IN_PROVIDERS[providerId];
  const userProvider = config.model_providers?.[providerId];
  if (builtIn === undefined && userProvider === undefined) {
    throw new KilnError(
      "config_invalid",
      `model_provider "${providerId}" is not defined: add [model_providers.${providerId}] with base_url and wire_api to config.toml (built-in providers: ${Object.keys(BUILT_IN_PROVIDERS).join(", ")})`,
    );
  }
  const provider = ModelProviderConfig.parse({ ...builtIn, ...userProvider });
  const baseUrl =
    providerId === "openai" && config.openai_base_url !== undefined
      ? config.openai_base_url
      : provider.base_url;
  if (baseUrl === undefined) {
    throw new KilnError(
      "config_invalid",
      `model_providers.${providerId}.base_url is missing: set it in config.toml`,
      {
        details: { key: `model_providers.${providerId}.base_url` },
      },
    );
  }
  const { apiKey, apiKeyEnv } = apiKeyFor(providerId, provider, env);
  const model = config.model ?? DEFAULT_MODELS[providerId] ?? DEFAULT_MODEL;
  return {
    kilnHome,
    model,
    modelProviderId: providerId,
    modelProvider: { ...provider, base_url: baseUrl.replace(/\/+$/, "") },
    apiKey,
    apiKeyEnv,
    approvalPolicy: config.approval_policy ?? "on-request",
    sandboxMode: config.sandbox_mode ?? "workspace-write",
    mode: config.mode ?? "code",
    networkAccess: config.sandbox_workspace_write?.network_access ?? false,
    writableRoots: config.sandbox_workspace_write?.writable_roots ?? [],
    reasoningEffort: config.model_reasoning_effort,
    reasoningSummary: config.model_reasoning_summary,
    projectDocMaxBytes: config.project_doc_max_bytes ?? 32 * 1024,
    modelContextWindow: config.model_context_window,
    toolOutputTokenLimit: config.tool_output_token_limit ?? 10_000,
    mcpServers: config.mcp_servers ?? {},
    hooks: config.hooks ?? HooksConfig.parse({}),
    limits: {
      maxTurnTokens: config.max_turn_tokens,
      maxThreadCostUsd: config.max_thread_cost,
      repeatedFailureLimit: config.repeated_failure_limit ?? 3,
      autoCompactTokenLimit: config.model_auto_compact_token_limit,
      autoCompactShare: config.auto_compact_share ?? 0.8,
      maxCompactionsPerTurn: config.max_compactions_per_turn ?? 2,
      subAgentMaxDepth: config.sub_agents?.max_depth ?? 2,
      subAgentMaxConcurrent: config.sub_agents?.max_concurrent ?? 4,
    },
    price: config.prices?.[model],
    prices: config.prices ?? {},
    sources,
  };
}

function apiKeyFor(
  providerId: string,
  provider: ModelProviderConfig,
  env: Record<string, string | undefined>,
): { apiKey: string | undefined; apiKeyEnv: string | undefined } {
  if (providerId === "openai" && provider.env_key === "OPENAI_API_KEY") {
    // CODEX_API_KEY wins, as in `codex exec`: it is how @openai/codex-sdk passes an explicit key.
    const key = env.CODEX_API_KEY || env.OPENAI_API_KEY || undefined;
    return { apiKey: key, apiKeyEnv: "OPENAI_API_KEY" };
  }
  if (provider.env_key === undefined) return { apiKey: undefined, apiKeyEnv: undefined };
  return { apiKey: env[provider.env_key] || undefined, apiKeyEnv: provider.env_key };
}

/** The repository's `.kiln/config.toml`: from cwd up to the git root (or the filesystem root). */
/**
 * Keys a repository's own `.kiln/config.toml` may set without being trusted: nothing that runs
 * programs on the host (hooks, MCP servers), sends data elsewhere (providers, URLs) or loosens the
 * sandbox and approvals. A cloned repository is somebody else's code.
 */
const PROJECT_SAFE_KEYS = new Set([
  "model",
  "model_reasoning_effort",
  "model_reasoning_summary",
  "project_doc_max_bytes",
  "tool_output_token_limit",
  "mode",
  "max_turn_tokens",
  "repeated_failure_limit",
]);

/** `[projects."/path/to/repo"] trust_level = "trusted"` in $KILN_HOME/config.toml (as in Codex). */
function isTrustedProject(global: Record<string, unknown> | undefined, repoRoot: string): boolean {
  const projects = global?.projects;
  if (typeof projects !== "object" || projects === null) return false;
  const entry = (projects as Record<string, unknown>)[repoRoot];
  return (
    typeof entry === "object" &&
    entry !== null &&
    (entry as { trust_level?: unknown }).trust_level === "trusted"
  );
}

function untrustedProjectValues(
  values: Record<string, unknown>,
  file: string,
  warnings: string[],
): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  const ignored: string[] = [];
  for (const [key, value] of Object.entries(values)) {
    if (PROJECT_SAFE_KEYS.has(key)) kept[key] = value;
    else ignored.push(key);
  }
  if (ignored.length > 0) {
    warnings.push(
      `${file}: ignored ${ignored.join(", ")} (a project's config may not set these unless you trust it: add [projects."${dirname(dirname(file))}"] trust_level = "trusted" to $KILN_HOME/config.toml)`,
    );
  }
  return kept;
}

function projectConfigPath(cwd: string): string | undefined {
  let dir = resolve(cwd);
  for (;;) {
    const candidate = join(dir, ".kiln", "config.toml");
    if (existsSync(candidate)) return candidate;
    if (existsSync(join(dir, ".git"))) return undefined;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function readToml(file: string): Record<string, unknown> {
  try {
    return parseToml(readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch (error) {
    const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new KilnError("config_invalid", `${file} is not valid TOML: ${message}`, { details: { file } });
  }
}

/** `a.b.c=value`: the value is TOML when it parses as TOML, else a plain string (as in Codex). */
export function parseOverride(raw: string): { raw: string; values: Record<string, unknown> } {
  const eq = raw.indexOf("=");
  if (eq <= 0) {
    throw new KilnError("config_invalid", `-c ${raw}: expected key=value, e.g. -c model="gpt-5.5"`);
  }
  const path = raw.slice(0, eq).trim().split(".");
  const text = raw.slice(eq + 1).trim();
  let value: unknown = text;
  try {
    value = (parseToml(`v = ${text}`) as { v: unknown }).v;
  } catch {
    value = text;
  }
  const values: Record<string, unknown> = {};
  let node = values;
  path.forEach((key, i) => {
    if (i === path.length - 1) {
      node[key] = value;
      return;
    }
    const next: Record<string, unknown> = {};
    node[key] = next;
    node = next;
  });
  return { raw, values };
}

function check(schema: z.ZodType, layer: Layer): void {
  const result = schema.safeParse(layer.values);
  if (result.success) return;
  const issue = result.error.issues[0];
  const key = issue === undefined ? "" : issue.path.map(String).join(".");
  const found = issue === undefined ? undefined : valueAt(layer.values, issue.path);
  throw new KilnError(
    "config_invalid",
    `${layer.source}: ${key === "" ? "" : `key "${key}": `}${issue?.message ?? "invalid"}${found === undefined ? "" : ` (found ${JSON.stringify(found)})`}`,
    { details: { source: layer.source, key } },
  );
}

function valueAt(value: unknown, path: PropertyKey[]): unknown {
  let node = value;
  for (const key of path) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

function deepMerge(base: Record<string, unknown>, top: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(top)) {
    const prev = out[key];
    out[key] = isPlainObject(prev) && isPlainObject(value) ? deepMerge(prev, value) : value;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export { ProfileConfig };
