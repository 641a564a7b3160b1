// The SDK must run in a browser: bundled for the browser platform (with @kiln/protocol and zod, as a
// web app would bundle it), nothing may need Node (no `node:` modules, no Buffer, no process).
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

const entry = fileURLToPath(new URL("../src/index.ts", import.meta.url));
const protocol = fileURLToPath(new URL("../../protocol/src/index.ts", import.meta.url));

describe("the SDK in a browser", () => {
  it("bundles for the browser platform with its dependencies and uses no Node built-in", async () => {
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      platform: "browser",
      format: "esm",
      write: false,
      logLevel: "silent",
      metafile: true,
      alias: { "@kiln/protocol": protocol },
    });
    expect(result.errors).toEqual([]);
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((path) => path.includes("packages/protocol/src/"))).toBe(true);
    expect(inputs.filter((path) => path.startsWith("node:"))).toEqual([]);
    const code = result.outputFiles?.[0]?.text ?? "";
    expect(code).not.toMatch(/\bBuffer\.|\bprocess\.(env|version|platform|cwd)|require\(["']node:/);
  });
});
