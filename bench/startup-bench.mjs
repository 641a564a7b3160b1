// Benchmark 2: how long `kiln --version` takes, from the bundle and through the `./kiln` wrapper (whose
// extra cost is bash plus its "is the bundle stale?" `find` over packages/).
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repeat, timeProcess } from "./measure.mjs";

/**
 * Times `node packages/cli/dist/kiln.js --version` and `./kiln --version` `runs` times each (after one
 * warm-up of each). Resolves with `{ bundle: ms[], wrapper: ms[] | null, wrapperSkipped, rebuilds }`.
 */
export async function benchStartup({ root, runs }) {
  const home = mkdtempSync(join(tmpdir(), "kiln-bench-home-"));
  const options = {
    cwd: root,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, KILN_HOME: home, LANG: "C.UTF-8" },
  };
  try {
    const kilnJs = join(root, "packages/cli/dist/kiln.js");
    const bundle = await repeat(runs + 1, () =>
      timeProcess(process.execPath, [kilnJs, "--version"], options),
    );
    if (wrapperWouldInstall(root))
      return { bundle: bundle.slice(1), wrapper: null, wrapperSkipped: true, rebuilds: 0 };
    const samples = await repeat(runs + 1, () => timeWrapper(root, options));
    // A run that rebuilt measures the build, not startup: others edit sources while this runs.
    const wrapper = samples.slice(1).filter((s) => !s.rebuilt);
    return {
      bundle: bundle.slice(1),
      wrapper: wrapper.map((s) => s.ms),
      wrapperSkipped: false,
      rebuilds: samples.slice(1).length - wrapper.length,
    };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** One `./kiln --version`, and whether it rebuilt the bundle first (a source was newer than it). */
async function timeWrapper(root, options) {
  if (wrapperWouldInstall(root))
    throw new Error("package-lock.json changed during the bench: ./kiln would run npm ci");
  const before = bundleMtime(root);
  const ms = await timeProcess(join(root, "kiln"), ["--version"], options);
  return { ms, rebuilt: bundleMtime(root) !== before };
}

/**
 * Whether `./kiln` would run `npm ci` (no node_modules, or a lockfile newer than the installed tree):
 * the bench must not install anything, and that path is not the startup being measured.
 */
function wrapperWouldInstall(root) {
  const installed = join(root, "node_modules/.package-lock.json");
  if (!existsSync(installed)) return true;
  return statSync(join(root, "package-lock.json")).mtimeMs > statSync(installed).mtimeMs;
}

function bundleMtime(root) {
  return statSync(join(root, "packages/cli/dist/kiln.js")).mtimeMs;
}
