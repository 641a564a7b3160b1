// Builds every package with esbuild: each package's src/index.ts → dist/index.js (dependencies left
// external, resolved through node_modules at run time), plus self-contained bundles for executables
// (the CLI) so that a process starts by parsing one file.
import { existsSync, readdirSync, rmSync, statSync } from "node:fs";
import { basename, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const packages = ["protocol", "sdk", "sandbox", "core", "store", "server", "durable", "test-support", "cli"];
const aliases = Object.fromEntries(packages.map((p) => [`@kiln/${p}`, `${root}packages/${p}/src/index.ts`]));
const common = {
  platform: "node",
  target: "node20",
  format: "esm",
  sourcemap: "linked",
  logLevel: "warning",
  loader: { ".md": "text" },
};
/** Native or self-locating modules stay out of bundles. */
const nativeExternal = ["node-pty", "better-sqlite3", "@openai/codex-sdk"];
const banner = {
  js: "import { createRequire as __kilnCreateRequire } from 'node:module'; const require = __kilnCreateRequire(import.meta.url);",
};

const libraries = packages
  .filter((p) => existsSync(`${root}packages/${p}/src/index.ts`))
  .map((p) =>
    build({
      ...common,
      entryPoints: [`${root}packages/${p}/src/index.ts`],
      outfile: `${root}packages/${p}/dist/index.js`,
      bundle: true,
      packages: "external",
    }),
  );

/** Executables: [entry, outfile]. */
const executables = [
  ["packages/cli/src/main.ts", "packages/cli/dist/kiln.js"],
  ["packages/test-support/src/fake-model-cli.ts", "packages/test-support/dist/fake-model-cli.js"],
].filter(([entry]) => existsSync(`${root}${entry}`));

// Split into chunks loaded on demand (dynamic imports): `kiln --version` parses a fraction of the code,
// and the server, MCP and Anthropic SDKs load only when used.
const bundles = executables.map(([entry, outfile]) =>
  build({
    ...common,
    entryPoints: { [basename(outfile, ".js")]: `${root}${entry}` },
    outdir: `${root}${dirname(outfile)}`,
    chunkNames: "chunks/[name]-[hash]",
    splitting: true,
    bundle: true,
    alias: aliases,
    external: nativeExternal,
    banner,
  }),
);

await Promise.all([...libraries, ...bundles]);

// The web app (Vite), rebuilt only when a source of it (or of the SDK and protocol it bundles) is newer
// than its last build: the test suite builds before every run.
await buildWeb();

// Chunks of earlier builds have other hashes. A process started before this build may still load
// them lazily, so only chunks older than ten minutes that this build did not write are removed.
const cutoff = Date.now() - 10 * 60_000;
for (const [, outfile] of executables) {
  const dir = `${root}${dirname(outfile)}/chunks`;
  if (!existsSync(dir)) continue;
  for (const name of readdirSync(dir)) {
    const path = `${dir}/${name}`;
    if (statSync(path).mtimeMs < cutoff) rmSync(path, { force: true });
  }
}

async function buildWeb() {
  const web = `${root}packages/web`;
  if (!existsSync(`${web}/index.html`)) return;
  const newest = (dir) => {
    let latest = 0;
    if (!existsSync(dir)) return latest;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
    }
    return latest;
  };
  const built = existsSync(`${web}/dist/index.html`) ? statSync(`${web}/dist/index.html`).mtimeMs : 0;
  const sources = Math.max(
    newest(`${web}/src`),
    statSync(`${web}/index.html`).mtimeMs,
    statSync(`${web}/vite.config.ts`).mtimeMs,
    newest(`${root}packages/sdk/src`),
    newest(`${root}packages/protocol/src`),
  );
  if (built > sources) return;
  const { build: viteBuild } = await import("vite");
  // Production React even when the test runner (NODE_ENV=test) calls this build.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = "production";
  try {
    await viteBuild({ configFile: `${web}/vite.config.ts`, logLevel: "warn", mode: "production" });
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
}
