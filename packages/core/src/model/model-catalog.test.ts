import { describe, expect, it } from "vitest";
import { describeCatalog, modelInfo } from "./model-catalog.ts";

describe("modelInfo", () => {
  it("knows gpt-5.5: a 400k window of which 272k input, freeform apply_patch on the Responses wire", () => {
    expect(modelInfo("gpt-5.5")).toEqual({
      family: "gpt-5.5",
      contextWindow: 400_000,
      maxInputTokens: 272_000,
      maxOutputTokens: 128_000,
      wire: "responses",
      applyPatch: "freeform",
      reasoning: true,
      autoCompactShare: 0.8,
    });
  });

  it("matches the longest prefix: gpt-5-codex is gpt-5, codex-mini-latest is not codex-", () => {
    expect(modelInfo("gpt-5-codex").family).toBe("gpt-5");
    expect(modelInfo("gpt-5.5-mini").family).toBe("gpt-5.5");
    expect(modelInfo("codex-mini-latest")).toMatchObject({ family: "codex-mini", contextWindow: 200_000 });
    expect(modelInfo("codex-1")).toMatchObject({ family: "codex-", applyPatch: "freeform" });
    expect(modelInfo("o4-mini")).toMatchObject({ family: "o4", reasoning: true, applyPatch: "function" });
    expect(modelInfo("gpt-4.1-mini")).toMatchObject({ contextWindow: 1_047_576, reasoning: false });
  });

  it("knows Claude: 200k, the output cap per generation, thinking, and a function apply_patch", () => {
    expect(modelInfo("claude-sonnet-4-6")).toEqual({
      family: "claude-sonnet-4",
      contextWindow: 200_000,
      maxInputTokens: 200_000,
      maxOutputTokens: 64_000,
      wire: "anthropic",
      applyPatch: "function",
      reasoning: true,
      autoCompactShare: 0.8,
    });
    expect(modelInfo("claude-opus-4-1-20250805").maxOutputTokens).toBe(32_000);
    expect(modelInfo("claude-opus-4-20250514").maxOutputTokens).toBe(32_000);
    expect(modelInfo("claude-opus-4-6").maxOutputTokens).toBe(64_000);
    expect(modelInfo("claude-haiku-4-5").family).toBe("claude-haiku-4");
    expect(modelInfo("claude-3-5-haiku-latest")).toMatchObject({ maxOutputTokens: 8_192, reasoning: false });
  });

  it("sees through router and cloud prefixes and case", () => {
    expect(modelInfo("openai/GPT-5").family).toBe("gpt-5");
    expect(modelInfo("anthropic/claude-sonnet-4").family).toBe("claude-sonnet-4");
    expect(modelInfo("us.anthropic.claude-opus-4-1-20250805-v1:0").family).toBe("claude-opus-4-1");
    expect(modelInfo("qwen3-coder:30b")).toMatchObject({ family: "qwen3-coder", contextWindow: 262_144 });
    expect(modelInfo("library/llama3.1:8b")).toMatchObject({ family: "llama", wire: "chat" });
  });

  it("gives apply_patch as a function to OpenAI models off the Responses wire and to open models", () => {
    expect(modelInfo("gpt-5", { wire: "chat" })).toMatchObject({ wire: "chat", applyPatch: "function" });
    expect(modelInfo("gpt-oss-20b")).toMatchObject({ wire: "chat", applyPatch: "function", reasoning: true });
    expect(modelInfo("gpt-oss-120b", { wire: "responses" }).applyPatch).toBe("function");
    expect(modelInfo("deepseek-r1", { wire: "responses" }).applyPatch).toBe("function");
  });

  it("assumes 128k for an unknown model", () => {
    expect(modelInfo("my-finetune")).toEqual({
      family: "unknown",
      contextWindow: 128_000,
      maxInputTokens: 128_000,
      maxOutputTokens: 32_000,
      wire: "responses",
      applyPatch: "function",
      reasoning: false,
      autoCompactShare: 0.8,
    });
    expect(modelInfo("my-finetune", { wire: "chat" }).wire).toBe("chat");
  });

  it("lets model_context_window override the window, and with it the input budget", () => {
    expect(modelInfo("my-finetune", { contextWindow: 32_768 })).toMatchObject({
      contextWindow: 32_768,
      maxInputTokens: 32_768,
    });
    expect(modelInfo("claude-sonnet-4-6", { contextWindow: 1_000_000 })).toMatchObject({
      contextWindow: 1_000_000,
      maxInputTokens: 1_000_000,
      maxOutputTokens: 64_000,
    });
    // gpt-5 reserves 128k for output: a window up to 272k is the input budget (Codex's meaning) …
    expect(modelInfo("gpt-5", { contextWindow: 200_000 })).toMatchObject({
      contextWindow: 200_000,
      maxInputTokens: 200_000,
    });
    expect(modelInfo("gpt-5", { contextWindow: 272_000 }).maxInputTokens).toBe(272_000);
    // … and a larger one keeps the reservation.
    expect(modelInfo("gpt-5", { contextWindow: 400_000 }).maxInputTokens).toBe(272_000);
    expect(modelInfo("gpt-5", { contextWindow: 1_000_000 }).maxInputTokens).toBe(872_000);
  });
});

describe("describeCatalog", () => {
  it("lists every family once, in table order, with the unknown-model row and its note last", () => {
    const rows = describeCatalog();
    const patterns = rows.map((r) => r.pattern);
    expect(new Set(patterns).size).toBe(patterns.length);
    expect(patterns.slice(0, 3)).toEqual(["gpt-5.5", "gpt-5", "codex-mini"]);
    expect(patterns).toEqual(
      expect.arrayContaining(["claude-opus-4", "claude-sonnet-4", "llama", "qwen", "mistral"]),
    );
    expect(rows.at(-1)).toEqual({
      pattern: "*",
      contextWindow: 128_000,
      maxInputTokens: 128_000,
      maxOutputTokens: 32_000,
      wire: "responses",
      applyPatch: "function",
      reasoning: false,
      autoCompactShare: 0.8,
      note: "a model not in the catalog: 128000 tokens is assumed; set model_context_window in config.toml if it differs",
    });
  });

  it("describes each row as modelInfo sees a model of that family", () => {
    for (const { pattern, note: _, ...info } of describeCatalog()) {
      if (pattern === "*") continue;
      expect({ family: pattern, ...info }).toEqual(modelInfo(pattern));
    }
  });
});
