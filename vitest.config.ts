import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const pkg = (name: string) => fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url));

/** Tool descriptions are Markdown files imported as text (esbuild's `text` loader does the same in builds). */
const markdownAsText = {
  name: "markdown-as-text",
  transform(code: string, id: string) {
    if (!id.endsWith(".md")) return undefined;
    return { code: `export default ${JSON.stringify(code)};`, map: null };
  },
};

export default defineConfig({
  plugins: [markdownAsText],
  resolve: {
    alias: {
      "@kiln/protocol": pkg("protocol"),
      "@kiln/sdk": pkg("sdk"),
      "@kiln/core": pkg("core"),
      "@kiln/durable": pkg("durable"),
      "@kiln/sandbox": pkg("sandbox"),
      "@kiln/server": pkg("server"),
      "@kiln/store": pkg("store"),
      "@kiln/test-support": pkg("test-support"),
    },
  },
  test: {
    include: [
      "packages/*/src/**/*.test.ts",
      "packages/*/src/**/*.test.tsx",
      "packages/*/test/**/*.test.ts",
      "packages/*/test/**/*.test.tsx",
    ],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    globalSetup: ["scripts/vitest-global-setup.ts"],
  },
});
