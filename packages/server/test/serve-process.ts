// Runs the real bundled `kiln serve` as a child process (built by the vitest global setup) on a free
// port, and reads the URL it prints.
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const KILN_BIN = fileURLToPath(new URL("../../cli/dist/kiln.js", import.meta.url));

/** A running `kiln serve`. */
export interface ServeProcess {
  url: string;
  child: ChildProcess;
  /** Everything it wrote to stderr (human lines) so far. */
  stderr(): string;
  /** Everything it wrote to stdout (pino JSON logs) so far. */
  stdout(): string;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `kiln serve --port 0 --data-dir DIR` and waits for its URL. */
export async function startServe(
  dataDir: string,
  env: Record<string, string>,
  extra: string[] = [],
): Promise<ServeProcess> {
  const child = spawn(process.execPath, [KILN_BIN, "serve", "--port", "0", "--data-dir", dataDir, ...extra], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  let stdout = "";
  child.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on("exit", (code, signal) => resolve({ code, signal }));
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kiln serve did not start:\n${stderr}`)), 20_000);
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
      const match = /listening on (http:\/\/\S+)/.exec(stderr);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`kiln serve exited (${code}) before listening:\n${stderr}`));
    });
  });
  return { url, child, stderr: () => stderr, stdout: () => stdout, exited };
}

/** Waits until the process's stderr matches `pattern`; returns the stderr. */
export async function stderrMatching(p: ServeProcess, pattern: RegExp, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(p.stderr())) {
    if (Date.now() > deadline) throw new Error(`stderr never matched ${pattern}:\n${p.stderr()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return p.stderr();
}
