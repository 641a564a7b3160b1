import { parseOverride } from "@kiln/core";
import { describe, expect, it } from "vitest";
import { configOverrides } from "./config-overrides.ts";

describe("configOverrides", () => {
  it("writes JSON values as -c overrides that read back as the same values", () => {
    const config = {
      model: 'gpt "quoted"\n',
      "model_providers.openai.stream_max_retries": 2,
      sandbox_workspace_write: { network_access: true, writable_roots: ["/a", "/b"] },
      project_doc_max_bytes: 1.5,
    };
    const overrides = configOverrides(config);
    expect(overrides).toEqual([
      'model="gpt \\"quoted\\"\\n"',
      "model_providers.openai.stream_max_retries=2",
      'sandbox_workspace_write={ "network_access" = true, "writable_roots" = ["/a", "/b"] }',
      "project_doc_max_bytes=1.5",
    ]);
    expect(overrides.map((o) => parseOverride(o).values)).toEqual([
      { model: 'gpt "quoted"\n' },
      { model_providers: { openai: { stream_max_retries: 2 } } },
      { sandbox_workspace_write: { network_access: true, writable_roots: ["/a", "/b"] } },
      { project_doc_max_bytes: 1.5 },
    ]);
  });

  it("rejects null, which TOML cannot say, naming the key", () => {
    expect(() => configOverrides({ sandbox_workspace_write: { network_access: null } })).toThrow(
      "config.sandbox_workspace_write.network_access: null is not a configuration value (TOML has strings, numbers, booleans, arrays and tables)",
    );
  });
});
