// Builds every package with esbuild: each package's src/index.ts → dist/index.js (dependencies left
// external, resolved through node_modules at run time), plus self-contained bundles for executables
// (the CLI) so that a process starts by parsing one file.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const packages = ["protocol", "sandbox", "core", "store", "server", "test-support", "cli"];
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

const bundles = executables.map(([entry, outfile]) =>
  build({
    ...common,
    entryPoints: [`${root}${entry}`],
    outfile: `${root}${outfile}`,
    bundle: true,
    alias: aliases,
    external: nativeExternal,
    banner,
  }),
);

await Promise.all([...libraries, ...bundles]);
