// One `kiln exec --json` process, set up the way packages/cli/test/run-kiln.ts sets up the CLI tests
// (a scratch KILN_HOME, a clean environment, the fake model's url), timed and watched for memory.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { onLines } from "./lines.mjs";
import { watchPeakRss } from "./measure.mjs";

/**
 * A fresh KILN_HOME whose config points at `modelUrl` and never asks for approval, and the clean
 * environment a run gets. Returns `{ home, env, cleanup }`.
 */
export function createKilnHome(modelUrl) {
  const home = mkdtempSync(join(tmpdir(), "kiln-bench-home-"));
  writeFileSync(
    join(home, "config.toml"),
    `model = "gpt-test"\nopenai_base_url = "${modelUrl}"\napproval_policy = "never"\n`,
  );
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    KILN_HOME: home,
    OPENAI_API_KEY: "test-key",
    LANG: "C.UTF-8",
  };
  return { home, env, cleanup: () => rmSync(home, { recursive: true, force: true }) };
}

/**
 * Runs `node <root>/packages/cli/dist/kiln.js exec --json PROMPT` in `cwd` and resolves with
 * `{ code, signal, startedAt, exitedAt, wallMs, peakRssKb, events, stderr }`. `events` are the parsed
 * stdout lines as `{ at, event }`, `at` on the same `performance.now()` clock as `startedAt`.
 * The bundle is run directly (not `./kiln`) so the wrapper's staleness check is not measured.
 */
export function runKilnExec({ root, cwd, env, prompt }) {
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    const child = spawn(
      process.execPath,
      [join(root, "packages/cli/dist/kiln.js"), "exec", "--json", prompt],
      {
        cwd,
        env,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const rss = watchPeakRss(child.pid);
    const events = [];
    let stderr = "";
    let exitedAt = null;
    let peakRssKb = null;
    onLines(child.stdout, (line, at) => {
      if (line.trim().startsWith("{")) events.push({ at, event: JSON.parse(line) });
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.once("error", (error) => {
      rss.stop();
      reject(error);
    });
    child.once("exit", () => {
      exitedAt = performance.now();
      peakRssKb = rss.stop();
    });
    // `close` (all output read) rather than `exit`, so no event is missed; the wall time still ends at exit.
    child.once("close", (code, signal) => {
      resolve({ code, signal, startedAt, exitedAt, wallMs: exitedAt - startedAt, peakRssKb, events, stderr });
    });
  });
}
