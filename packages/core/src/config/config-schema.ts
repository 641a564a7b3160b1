import { ApprovalPolicy, CollaborationMode, SandboxMode } from "@kiln/protocol";
import { z } from "zod";

/** One `[model_providers.ID]` table (Codex keys). */
export const ModelProviderConfig = z.object({
  /** Display name. */
  name: z.string().optional(),
  /** e.g. `https://api.openai.com/v1` or `http://localhost:11434/v1`. */
  base_url: z.string().url().optional(),
  /** Which wire the provider speaks. */
  wire_api: z.enum(["responses", "chat"]).default("responses"),
  /** Environment variable holding the API key. */
  env_key: z.string().optional(),
  /** Extra HTTP headers sent with every request. */
  http_headers: z.record(z.string(), z.string()).optional(),
  /** Retries of a failed or disconnected model call before the turn fails. */
  stream_max_retries: z.number().int().min(0).max(20).default(5),
  /** First retry delay in ms (doubles each time, unless the server says `retry-after`). */
  retry_base_delay_ms: z.number().int().min(0).max(60_000).default(250),
  /** Abort a model stream that sends nothing for this long. */
  stream_idle_timeout_ms: z.number().int().positive().default(300_000),
});
export type ModelProviderConfig = z.infer<typeof ModelProviderConfig>;

const settings = {
  /** Model name sent to the provider. */
  model: z.string().min(1).optional(),
  /** Key into `model_providers` (built-ins: `openai`, `ollama`, `lmstudio`). */
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
};

/** A profile: the same settings, chosen with `--profile NAME`. */
export const ProfileConfig = z.object(settings);
export type ProfileConfig = z.infer<typeof ProfileConfig>;

/** `config.toml`: Codex keys, plus Kiln's own. Unknown keys are ignored (forward compatibility). */
export const ConfigFile = z.object({
  ...settings,
  /** Profile used when `--profile` is not given. */
  profile: z.string().optional(),
  profiles: z.record(z.string(), ProfileConfig).optional(),
  model_providers: z.record(z.string(), ModelProviderConfig.partial()).optional(),
  /** Reserved for MCP servers (see the MCP docs). */
  mcp_servers: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
});
export type ConfigFile = z.infer<typeof ConfigFile>;
