import { ApprovalPolicy, CollaborationMode, SandboxMode } from "@kiln/protocol";
import { z } from "zod";
import { HooksConfig } from "../hooks/hooks-config.ts";

/** One `[model_providers.ID]` table as written (Codex keys); every key optional, no defaults. */
export const ModelProviderEntry = z.object({
  /** Display name. */
  name: z.string().optional(),
  /** e.g. `https://api.openai.com/v1` or `http://localhost:11434/v1`. */
  base_url: z.string().url().optional(),
  /** Which wire the provider speaks. */
  wire_api: z.enum(["responses", "chat", "anthropic"]).optional(),
  /** Environment variable holding the API key. */
  env_key: z.string().optional(),
  /** Extra HTTP headers sent with every request. */
  http_headers: z.record(z.string(), z.string()).optional(),
  /** Retries of a failed or disconnected model call before the turn fails. */
  stream_max_retries: z.number().int().min(0).max(20).optional(),
  /** First retry delay in ms (doubles each time, unless the server says `retry-after`). */
  retry_base_delay_ms: z.number().int().min(0).max(60_000).optional(),
  /** Abort a model stream that sends nothing for this long. */
  stream_idle_timeout_ms: z.number().int().positive().optional(),
});
export type ModelProviderEntry = z.infer<typeof ModelProviderEntry>;

/**
 * A provider after layering (built-in table, then the user's entry) with defaults filled in. Defaults
 * apply only here, so a user entry that sets one key does not reset a built-in's other keys.
 */
export const ModelProviderConfig = ModelProviderEntry.extend({
  wire_api: z.enum(["responses", "chat", "anthropic"]).default("responses"),
  stream_max_retries: z.number().int().min(0).max(20).default(5),
  retry_base_delay_ms: z.number().int().min(0).max(60_000).default(250),
  stream_idle_timeout_ms: z.number().int().positive().default(300_000),
});
export type ModelProviderConfig = z.infer<typeof ModelProviderConfig>;

const settings = {
  /** Model name sent to the provider. */
  model: z.string().min(1).optional(),
  /** Key into `model_providers` (built-ins: `openai`, `anthropic`, `ollama`, `lmstudio`). */
  model_provider: z.string().min(1).optional(),
  approval_policy: ApprovalPolicy.optional(),
  sandbox_mode: SandboxMode.optional(),
  /** Collaboration mode (Kiln). */
  mode: CollaborationMode.optional(),
  model_reasoning_effort: z.enum(["none", "minimal", "low", "medium", "high", "xhigh"]).optional(),
  model_reasoning_summary: z.enum(["auto", "concise", "detailed", "none"]).optional(),
  /** Overrides the built-in `openai` provider's base URL. */
  openai_base_url: z.string().url().optional(),
  sandbox_workspace_write: z
    .object({
      network_access: z.boolean().optional(),
      writable_roots: z.array(z.string()).optional(),
    })
    .optional(),
  /** Cap on the AGENTS.md text given to the model, in bytes. */
  project_doc_max_bytes: z.number().int().nonnegative().optional(),
  /** Context window of the model, in tokens (overrides the catalog). */
  model_context_window: z.number().int().positive().optional(),
  /** Default `max_output_tokens` of exec_command output given to the model. */
  tool_output_token_limit: z.number().int().positive().optional(),
  /** Stop a turn that uses more tokens than this (input + output, all model calls). */
  max_turn_tokens: z.number().int().positive().optional(),
  /** Stop the thread's turns once its cost passes this many US dollars (needs a [prices] entry). */
  max_thread_cost: z.number().positive().optional(),
  /** Stop a turn when the same tool call fails this many times in a row (0 = never). */
  repeated_failure_limit: z.number().int().min(0).optional(),
  /** Compact the history when the context reaches this many tokens (Codex key). */
  model_auto_compact_token_limit: z.number().int().positive().optional(),
  /** …or this share of the context window (default 0.8). */
  auto_compact_share: z.number().gt(0).max(1).optional(),
  /** At most this many automatic compactions per turn (no compaction death spiral). */
  max_compactions_per_turn: z.number().int().min(0).optional(),
  /** Sub-agent limits. */
  sub_agents: z
    .object({
      max_depth: z.number().int().min(0).optional(),
      max_concurrent: z.number().int().positive().optional(),
    })
    .optional(),
};

/** Price of a model in US dollars per million tokens. */
export const ModelPrice = z.object({
  input: z.number().nonnegative(),
  cached_input: z.number().nonnegative().optional(),
  output: z.number().nonnegative(),
});
export type ModelPrice = z.infer<typeof ModelPrice>;

/** A profile: the same settings, chosen with `--profile NAME`. */
export const ProfileConfig = z.object(settings);
export type ProfileConfig = z.infer<typeof ProfileConfig>;

/** `config.toml`: Codex keys, plus Kiln's own. Unknown keys are ignored (forward compatibility). */
export const ConfigFile = z.object({
  ...settings,
  /** Profile used when `--profile` is not given. */
  profile: z.string().optional(),
  profiles: z.record(z.string(), ProfileConfig).optional(),
  model_providers: z.record(z.string(), ModelProviderEntry).optional(),
  /** `[projects."/abs/repo"] trust_level = "trusted"`: that repository's `.kiln/config.toml` may set any key. */
  projects: z
    .record(z.string(), z.object({ trust_level: z.enum(["trusted", "untrusted"]).optional() }))
    .optional(),
  /** `[prices."MODEL"]`: what a model costs, for usage reports and `max_thread_cost`. */
  prices: z.record(z.string(), ModelPrice).optional(),
  /** Reserved for MCP servers (see the MCP docs). */
  mcp_servers: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
  /** `[[hooks.<event>]]`: the user's programs run around tool calls and turns (see hooks/README.md). */
  hooks: HooksConfig.optional(),
});
export type ConfigFile = z.infer<typeof ConfigFile>;
