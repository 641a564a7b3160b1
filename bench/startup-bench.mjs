// Benchmark 2: how long `kiln --version` takes, from the bundle and through the `./kiln` wrapper (whose
// extra cost is bash plus its "is the bundle stale?" `find` over packages/).
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repeat, timeProcess } from "./measure.mjs";

/**
 * Times `node packages/cli/dist/kiln.js --version` and `./kiln --version` `runs` times each (after one
 * warm-up of each). Resolves with `{ bundle: ms[], wrapper: ms[] | null, wrapperSkipped, rebuilt }`.
 */
export async function benchStartup({ root, runs }) {
  const home = mkdtempSync(join(tmpdir(), "kiln-bench-home-"));
  const options = {
    cwd: root,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, KILN_HOME: home, LANG: "C.UTF-8" },
  };
  const time = (file, args) =>
    repeat(runs + 1, () => timeProcess(file, args, options)).then((ms) => ms.slice(1));
  try {
    const bundle = await time(process.execPath, [join(root, "packages/cli/dist/kiln.js"), "--version"]);
    const wrapperSkipped = wrapperWouldInstall(root);
    if (wrapperSkipped) return { bundle, wrapper: null, wrapperSkipped, rebuilt: false };
    const before = bundleMtime(root);
    const wrapper = await time(join(root, "kiln"), ["--version"]);
    // Others edit sources while this runs; an edit makes the wrapper rebuild once, inflating a sample.
    return { bundle, wrapper, wrapperSkipped, rebuilt: bundleMtime(root) !== before };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
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
