// Benchmark 3: the cost of the sandbox alone. Spawns `true` through the built @kiln/sandbox library in
// the default `workspace-write` mode (real bubblewrap; as root also setpriv and an ACL grant on the
// workspace), and through a plain `child_process.spawn`, both on pipes and both timed to `close`.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { repeat } from "./measure.mjs";

/**
 * Resolves with `{ first, sandboxed: ms[], plain: ms[] }`: the first sandboxed spawn (which does the
 * one-off work, e.g. the ACL grant) apart, then `runs` of each kind.
 */
export async function benchSandboxSpawn({ root, runs }) {
  // Imported only now: the library exists once the bench has built it.
  const { createSandboxProvider } = await import(
    pathToFileURL(join(root, "packages/sandbox/dist/index.js")).href
  );
  const sandbox = createSandboxProvider("workspace-write");
  const dir = mkdtempSync(join(tmpdir(), "kiln-bench-sandbox-"));
  const policy = { mode: "workspace-write", writableRoots: [dir], networkAccess: false };
  try {
    const sandboxedTrue = () => timeSandboxed(sandbox, { argv: ["true"], cwd: dir, policy });
    const first = await sandboxedTrue();
    const sandboxed = await repeat(runs, sandboxedTrue);
    await timePlain(dir);
    const plain = await repeat(runs, () => timePlain(dir));
    return { first, sandboxed, plain };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function timeSandboxed(sandbox, options) {
  const started = performance.now();
  const child = await sandbox.spawn(options);
  let output = "";
  child.onData((chunk) => {
    output += chunk;
  });
  const status = await child.exited;
  const ms = performance.now() - started;
  if (status.exitCode === 0) return ms;
  throw new Error(`sandboxed \`true\` ended with ${status.exitCode ?? status.signal}: ${output.trim()}`);
}

function timePlain(cwd) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn("true", [], { cwd, stdio: ["pipe", "pipe", "pipe"] });
    child.once("error", reject);
    child.once("close", (code) => {
      if (code === 0) return resolve(performance.now() - started);
      reject(new Error(`\`true\` exited with ${code}`));
    });
  });
}
