// What the durable end-to-end tests share: a worker as its own process (worker-process.mjs, so a test
// can SIGKILL it mid-turn) and polling for a condition.
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const workerScript = fileURLToPath(new URL("./worker-process.mjs", import.meta.url));

/** How worker-process.mjs is started. */
export interface WorkerProcessOptions {
  port: number;
  dbUrl: string;
  kilnHome: string;
  modelUrl: string;
  /** Workspaces on node-local disks (`kiln worker --workspaces checkpoint`). */
  checkpoints?: boolean;
  /** The API nodes' KILN_SECRET_KEY: users' own provider keys are then used for their turns. */
  secretKey?: string;
}

/** Starts a worker process; resolves once it serves (its first line is `{"url": …}`). */
export async function spawnWorker(options: WorkerProcessOptions): Promise<ChildProcess> {
  const child = spawn(process.execPath, [workerScript, JSON.stringify(options)], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, RESTATE_LOGGING: "WARN" },
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once("line", resolve);
    child.once("exit", (code) => reject(new Error(`worker exited (${code}) before serving`)));
  });
  const { url } = JSON.parse(first) as { url: string };
  if (url !== `http://127.0.0.1:${options.port}`)
    throw new Error(`the worker serves ${url}, not port ${options.port}`);
  return child;
}

/** Polls `check` every 25 ms until it holds; throws naming `what` after `ms`. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  ms = 30_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
