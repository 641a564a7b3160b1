// What Kiln knows about model families: context window, output cap, natural wire, apply_patch shape and
// reasoning support, matched by name prefix (the longest matching prefix wins). Numbers are the
// providers' published limits; a model not listed gets conservative defaults and `family: "unknown"`, so
// callers can tell the user to set `model_context_window`.

/** The wires Kiln's model clients speak. */
export type ModelWire = "responses" | "chat" | "anthropic";

/** What Kiln assumes about one model. */
export interface ModelInfo {
  /** The catalog pattern that matched (e.g. `claude-sonnet-4`), or `unknown`. */
  family: string;
  /** Total tokens the model handles in one call (prompt and output), as the provider documents it. */
  contextWindow: number;
  /** The most prompt tokens one call may carry: below `contextWindow` when the provider reserves room
   *  for the output apart (gpt-5: 272000 of 400000). Compaction is measured against this. */
  maxInputTokens: number;
  /** The largest output the model produces in one call (sent as `max_tokens` on the Anthropic wire). */
  maxOutputTokens: number;
  /** The wire the model is served on: the provider's `wire_api` when given, else the family's usual one. */
  wire: ModelWire;
  /** How `apply_patch` is offered: a freeform (custom, grammar) tool only to OpenAI's GPT-5 family on the
   *  Responses wire; a function with one string argument `input` everywhere else. */
  applyPatch: "freeform" | "function";
  /** Whether the model takes a reasoning effort (OpenAI `reasoning.effort`, Anthropic extended thinking). */
  reasoning: boolean;
  /** Share of `maxInputTokens` at which the conversation should be compacted. */
  autoCompactShare: number;
}

/** Overrides of the catalog from config. */
export interface ModelInfoOverrides {
  /** `model_context_window`: the model's context window in tokens. */
  contextWindow?: number | undefined;
  /** The provider's `wire_api`: decides `wire` and, with it, `applyPatch`. */
  wire?: ModelWire | undefined;
}

/** One catalog row as documented (`describeCatalog`). */
export type CatalogRow = { pattern: string; note?: string } & Omit<ModelInfo, "family">;

interface CatalogEntry {
  pattern: string;
  contextWindow: number;
  /** Defaults to `contextWindow` (input and output share one pool). */
  maxInputTokens?: number;
  maxOutputTokens: number;
  wire: ModelWire;
  reasoning: boolean;
  /** Takes apply_patch as a freeform tool when on the Responses wire. */
  freeform?: boolean;
  note?: string;
}

const AUTO_COMPACT_SHARE = 0.8;

const gpt5 = { contextWindow: 400_000, maxInputTokens: 272_000, maxOutputTokens: 128_000 } as const;
const openaiReasoning = { contextWindow: 200_000, maxOutputTokens: 100_000, reasoning: true } as const;

const CATALOG: readonly CatalogEntry[] = [
  { pattern: "gpt-5.5", ...gpt5, wire: "responses", reasoning: true, freeform: true },
  { pattern: "gpt-5", ...gpt5, wire: "responses", reasoning: true, freeform: true },
  { pattern: "codex-mini", ...openaiReasoning, wire: "responses" },
  { pattern: "codex-", ...gpt5, wire: "responses", reasoning: true, freeform: true },
  {
    pattern: "gpt-4.1",
    contextWindow: 1_047_576,
    maxOutputTokens: 32_768,
    wire: "responses",
    reasoning: false,
  },
  { pattern: "gpt-4o", contextWindow: 128_000, maxOutputTokens: 16_384, wire: "responses", reasoning: false },
  { pattern: "o1", ...openaiReasoning, wire: "responses" },
  { pattern: "o3", ...openaiReasoning, wire: "responses" },
  { pattern: "o4", ...openaiReasoning, wire: "responses" },
  {
    pattern: "gpt-oss",
    contextWindow: 131_072,
    maxOutputTokens: 32_768,
    wire: "chat",
    reasoning: true,
    note: "open weights, usually served by Ollama, vLLM or LM Studio",
  },
  {
    pattern: "claude-opus-4-0",
    contextWindow: 200_000,
    maxOutputTokens: 32_000,
    wire: "anthropic",
    reasoning: true,
  },
  {
    pattern: "claude-opus-4-1",
    contextWindow: 200_000,
    maxOutputTokens: 32_000,
    wire: "anthropic",
    reasoning: true,
  },
  {
    pattern: "claude-opus-4-2025",
    contextWindow: 200_000,
    maxOutputTokens: 32_000,
    wire: "anthropic",
    reasoning: true,
    note: "dated Claude Opus 4 snapshots",
  },
  {
    pattern: "claude-opus-4",
    contextWindow: 200_000,
    maxOutputTokens: 64_000,
    wire: "anthropic",
    reasoning: true,
  },
  {
    pattern: "claude-sonnet-4",
    contextWindow: 200_000,
    maxOutputTokens: 64_000,
    wire: "anthropic",
    reasoning: true,
  },
  {
    pattern: "claude-haiku-4",
    contextWindow: 200_000,
    maxOutputTokens: 64_000,
    wire: "anthropic",
    reasoning: true,
  },
  {
    pattern: "claude-3-7-sonnet",
    contextWindow: 200_000,
    maxOutputTokens: 64_000,
    wire: "anthropic",
    reasoning: true,
  },
  {
    pattern: "claude-3-5",
    contextWindow: 200_000,
    maxOutputTokens: 8_192,
    wire: "anthropic",
    reasoning: false,
  },
  {
    pattern: "claude-",
    contextWindow: 200_000,
    maxOutputTokens: 32_000,
    wire: "anthropic",
    reasoning: false,
    note: "other Claude models: no extended thinking assumed",
  },
  { pattern: "llama", contextWindow: 128_000, maxOutputTokens: 8_192, wire: "chat", reasoning: false },
  { pattern: "qwen3-coder", contextWindow: 262_144, maxOutputTokens: 65_536, wire: "chat", reasoning: false },
  { pattern: "qwen", contextWindow: 32_768, maxOutputTokens: 8_192, wire: "chat", reasoning: false },
  { pattern: "deepseek", contextWindow: 128_000, maxOutputTokens: 8_192, wire: "chat", reasoning: false },
  { pattern: "devstral", contextWindow: 131_072, maxOutputTokens: 16_384, wire: "chat", reasoning: false },
  { pattern: "codestral", contextWindow: 256_000, maxOutputTokens: 16_384, wire: "chat", reasoning: false },
  { pattern: "mistral", contextWindow: 32_768, maxOutputTokens: 8_192, wire: "chat", reasoning: false },
];

const UNKNOWN: CatalogEntry = {
  pattern: "*",
  contextWindow: 128_000,
  maxOutputTokens: 32_000,
  wire: "responses",
  reasoning: false,
  note: "a model not in the catalog: 128000 tokens is assumed; set model_context_window in config.toml if it differs",
};

// Longest pattern first, so `gpt-5.5` wins over `gpt-5` and `claude-opus-4-1` over `claude-opus-4`.
const BY_SPECIFICITY = [...CATALOG].sort((a, b) => b.pattern.length - a.pattern.length);

/** What Kiln assumes about `model`; `overrides` come from config (`model_context_window`, `wire_api`). */
export function modelInfo(model: string, overrides: ModelInfoOverrides = {}): ModelInfo {
  const name = canonicalName(model);
  const entry = BY_SPECIFICITY.find((e) => name.startsWith(e.pattern));
  return { family: entry?.pattern ?? "unknown", ...infoFrom(entry ?? UNKNOWN, overrides) };
}

/** The catalog as data, for docs: one row per pattern, in table order, the unknown-model row last. */
export function describeCatalog(): CatalogRow[] {
  return [...CATALOG, UNKNOWN].map((entry) => ({
    pattern: entry.pattern,
    ...infoFrom(entry, {}),
    ...(entry.note === undefined ? {} : { note: entry.note }),
  }));
}

function infoFrom(entry: CatalogEntry, overrides: ModelInfoOverrides): Omit<ModelInfo, "family"> {
  const wire = overrides.wire ?? entry.wire;
  const catalogInput = entry.maxInputTokens ?? entry.contextWindow;
  return {
    contextWindow: overrides.contextWindow ?? entry.contextWindow,
    maxInputTokens:
      overrides.contextWindow === undefined ? catalogInput : inputBudget(entry, overrides.contextWindow),
    maxOutputTokens: entry.maxOutputTokens,
    wire,
    applyPatch: entry.freeform === true && wire === "responses" ? "freeform" : "function",
    reasoning: entry.reasoning,
    autoCompactShare: AUTO_COMPACT_SHARE,
  };
}

/**
 * The prompt budget under an overridden window. Where input and output share one pool, it is the window.
 * Where the provider reserves output room apart (gpt-5), a window up to the catalog's input budget is
 * taken as the input budget (Codex's meaning of `model_context_window`), and a larger one keeps the
 * reservation.
 */
function inputBudget(entry: CatalogEntry, window: number): number {
  const catalogInput = entry.maxInputTokens ?? entry.contextWindow;
  const reserved = entry.contextWindow - catalogInput;
  if (reserved <= 0) return window;
  return Math.min(window, Math.max(catalogInput, window - reserved));
}

/**
 * The part of a model name the catalog matches: lower case, without a router's vendor prefix
 * (`openai/gpt-5` on OpenRouter, `library/qwen3:8b`) or a cloud's prefix before `claude-`
 * (`us.anthropic.claude-sonnet-4-…` on Bedrock).
 */
function canonicalName(model: string): string {
  const name = model.trim().toLowerCase();
  const base = name.slice(name.lastIndexOf("/") + 1);
  const claude = base.indexOf("claude-");
  return claude > 0 ? base.slice(claude) : base;
}
