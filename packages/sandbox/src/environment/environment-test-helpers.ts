// Shared by this folder's tests: a cache dir per test, event collection, and a loopback counter that
// a sandboxed setup script can "ping" (the setup can write nothing outside its checkout, so counting
// its runs needs a channel that survives the sandbox).
import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { EnvironmentEvent } from "./environment-types.ts";

const execFileAsync = promisify(execFile);

/** Temp directories, removed by {@link removeTempDirs}. */
const temps: string[] = [];

/** A fresh temp directory. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

/** Removes every directory {@link tempDir} made. */
export async function removeTempDirs(): Promise<void> {
  await Promise.all(temps.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

/** Collects environment events. */
export function eventLog() {
  const events: EnvironmentEvent[] = [];
  return {
    events,
    onEvent: (event: EnvironmentEvent) => events.push(event),
    /** `phase:status` of each phase event, in order. */
    phases: () =>
      events.flatMap((event) => (event.type === "phase" ? [`${event.phase}:${event.status}`] : [])),
    /** All log text, concatenated. */
    logText: () => events.flatMap((event) => (event.type === "log" ? [event.text] : [])).join(""),
  };
}

/** Entries of `<cacheDir>/prepared` (empty when it does not exist). */
export async function preparedEntries(cacheDir: string): Promise<string[]> {
  return (await readdir(join(cacheDir, "prepared")).catch(() => [])).sort();
}

/** Runs host git in `cwd` with no user config; resolves with stdout. */
export async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync("git", args, {
    cwd,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" },
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

/** A loopback TCP server counting connections, for setup scripts to report that they ran. */
export async function connectionCounter(): Promise<{ port: number; count: () => number; close: () => void }> {
  let connections = 0;
  const server: Server = createServer((socket) => {
    connections += 1;
    socket.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return { port, count: () => connections, close: () => server.close() };
}
