// The fake model server as its own process (as a real model is to kiln), one per benchmarked run, so
// that its work never shares an event loop with the measuring code. With `--log` it prints one line per
// request to stderr; those lines are timestamped here, which puts "request arrived" on the same clock
// as the kiln events read from kiln's stdout.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onLines } from "./lines.mjs";

/**
 * Starts `packages/test-support/dist/fake-model-cli.js` on a free port serving `scenario`. Resolves with
 * `{ url, requests, close }`: `requests` fills with `{ at, line }` (`at` from `performance.now()`) as
 * requests arrive, e.g. `POST /v1/responses`; `close()` stops the server and deletes the scenario file.
 */
export async function startFakeModel(root, scenario) {
  const dir = mkdtempSync(join(tmpdir(), "kiln-bench-model-"));
  const scenarioPath = join(dir, "scenario.json");
  writeFileSync(scenarioPath, JSON.stringify(scenario));
  const child = spawn(
    process.execPath,
    [join(root, "packages/test-support/dist/fake-model-cli.js"), "--scenario", scenarioPath, "--log"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const requests = [];
  const otherStderr = [];
  onLines(child.stderr, (line, at) => {
    if (/^[A-Z]+ \//.test(line)) requests.push({ at, line });
    else otherStderr.push(line);
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const close = async () => {
    child.kill("SIGTERM");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const url = await readUrl(child, exited, otherStderr);
    return { url, requests, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The `{"url": …}` line the server prints once it listens. */
function readUrl(child, exited, stderr) {
  return new Promise((resolve, reject) => {
    onLines(child.stdout, (line) => resolve(JSON.parse(line).url));
    child.once("error", reject);
    exited.then((code) =>
      reject(
        new Error(`fake model server exited with ${code} before printing its url: ${stderr.join("\n")}`),
      ),
    );
  });
}
