// Regenerates packages/server/openapi.json from the zod schemas (src/openapi/). Usage:
//   npm run -w @kiln/server openapi      (or: node packages/server/scripts/gen-openapi.mjs)
// The drift test (test/openapi.test.ts) fails while the committed file differs from the generated one.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const serverDir = fileURLToPath(new URL("..", import.meta.url));
const packagesDir = join(serverDir, "..");
const kiln = ["protocol", "sandbox", "core", "store", "server"];
const alias = Object.fromEntries(kiln.map((p) => [`@kiln/${p}`, join(packagesDir, p, "src", "index.ts")]));

// Bundled next to the package, so that its external imports (zod, hono …) resolve from node_modules.
const tmp = await mkdtemp(join(serverDir, ".openapi-"));
try {
  const outfile = join(tmp, "openapi-document.mjs");
  await build({
    entryPoints: [join(serverDir, "src", "openapi", "openapi-document.ts")],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    alias,
    external: [
      "zod",
      "hono",
      "hono/*",
      "@hono/*",
      "pino",
      "ws",
      "better-sqlite3",
      "pg",
      "smol-toml",
      "openai",
      "@anthropic-ai/*",
      "@modelcontextprotocol/*",
      "ajv",
      "diff",
      "node-pty",
    ],
    loader: { ".md": "text" },
    logLevel: "warning",
  });
  const { openApiDocument } = await import(pathToFileURL(outfile).href);
  const path = join(serverDir, "openapi.json");
  await writeFile(path, `${JSON.stringify(openApiDocument(), null, 2)}\n`);
  console.log(`wrote ${path}`);
} finally {
  await rm(tmp, { recursive: true, force: true });
}
