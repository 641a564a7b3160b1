// The whole test suite, as CI runs it: installs and builds when needed, then typecheck, lint and
// vitest; prints one closing line `N passed, N failed` (typecheck and lint count as one test each).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const run = (cmd, args, opts = {}) =>
  spawnSync(cmd, args, { cwd: root, stdio: "inherit", ...opts }).status ?? 1;

if (!existsSync(`${root}node_modules`)) {
  if (run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"]) !== 0) process.exit(1);
}
if (run("node", ["scripts/build.mjs"]) !== 0) {
  console.log("0 passed, 1 failed");
  process.exit(1);
}

let passed = 0;
let failed = 0;
const extra = process.argv.slice(2);
if (extra.length === 0) {
  for (const [name, cmd, args] of [
    ["typecheck", "npx", ["tsc", "--noEmit", "-p", "tsconfig.json"]],
    ["typecheck web", "npx", ["tsc", "--noEmit", "-p", "packages/web/tsconfig.json"]],
    ["lint", "npx", ["biome", "check", "."]],
  ]) {
    console.log(`\n== ${name}`);
    if (run(cmd, args) === 0) passed++;
    else {
      failed++;
      console.log(`${name} FAILED`);
    }
  }
}

mkdirSync(`${root}test-output`, { recursive: true });
const report = `${root}test-output/vitest.json`;
console.log("\n== vitest");
run("npx", [
  "vitest",
  "run",
  "--reporter=default",
  "--reporter=json",
  `--outputFile.json=${report}`,
  ...extra,
]);
if (existsSync(report)) {
  const result = JSON.parse(readFileSync(report, "utf8"));
  passed += result.numPassedTests ?? 0;
  // A file that failed without a failed test (an import error, a failing hook) counts once; vitest's
  // numFailedTestSuites also counts every describe block around a failed test, so it is not used.
  failed += (result.numFailedTests ?? 0) + countFilesFailedWithoutTests(result);
} else {
  failed++;
}
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);

/** Test files that failed although none of their tests did. */
function countFilesFailedWithoutTests(result) {
  return (result.testResults ?? []).filter(
    (s) => s.status === "failed" && !(s.assertionResults ?? []).some((a) => a.status === "failed"),
  ).length;
}
