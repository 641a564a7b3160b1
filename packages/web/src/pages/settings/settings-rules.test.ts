// Which secret a provider key form stands for, and where a token stands.
import type { ApiTokenSummary } from "@kiln/protocol";
import { describe, expect, it } from "vitest";
import { tokenState } from "./api-tokens.tsx";
import { secretNameOf } from "./provider-keys.tsx";

describe("secretNameOf", () => {
  it("names the provider's secret, or checks the name typed for another", () => {
    expect(secretNameOf("OPENAI_API_KEY", "ignored")).toEqual({ name: "OPENAI_API_KEY" });
    expect(secretNameOf("ANTHROPIC_API_KEY", "")).toEqual({ name: "ANTHROPIC_API_KEY" });
    expect(secretNameOf("other", " OPENROUTER_API_KEY ")).toEqual({ name: "OPENROUTER_API_KEY" });
    expect(secretNameOf("other", "")).toEqual({ error: "Enter the secret's name, e.g. OPENROUTER_API_KEY." });
    expect(secretNameOf("other", "my-key")).toEqual({
      error: "my-key: use 1–64 of A–Z, 0–9 and _ (e.g. OPENAI_API_KEY)",
    });
  });
});

describe("tokenState", () => {
  const token: ApiTokenSummary = { id: "tok_1", name: "CI", scopes: ["read"], createdAt: 0 };
  it("is revoked, expired or active", () => {
    expect(tokenState({ ...token, revokedAt: 5, expiresAt: 1 }, 10)).toBe("revoked");
    expect(tokenState({ ...token, expiresAt: 10 }, 10)).toBe("expired");
    expect(tokenState({ ...token, expiresAt: 11 }, 10)).toBe("active");
    expect(tokenState(token, 10)).toBe("active");
  });
});
