// What the durable end-to-end tests share: a worker as its own process (worker-process.mjs, so a test
// can SIGKILL it mid-turn), an API node (the bundled CLI) with its admin signed in, and polling for a
// condition.
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { EventEnvelope } from "@kiln/protocol";

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

const kilnBin = fileURLToPath(new URL("../../cli/dist/kiln.js", import.meta.url));
const PASSWORD = "correct horse battery staple";

/** An API node (`kiln serve --engine restate`, the bundled CLI) with its admin signed in. */
export interface ApiNode {
  readonly url: string;
  readonly process: ChildProcess;
  /** Calls `/api/v1{path}` as the admin; the answer's status and JSON body. */
  call<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /**
   * The thread's SSE stream after seq `after` until its `turns`-th `turn/completed` (default: the
   * first), or until 40 s have passed.
   */
  stream(threadId: string, options?: { after?: number; turns?: number }): Promise<EventEnvelope[]>;
}

/** Starts an API node on a free port and signs its admin in. */
export async function startApiNode(options: {
  restate: { ingressUrl: string; adminUrl: string };
  dbUrl: string;
  kilnHome: string;
  dataDir: string;
  port: number;
}): Promise<ApiNode> {
  const child = spawn(
    process.execPath,
    [
      kilnBin,
      "serve",
      "--engine",
      "restate",
      "--restate-ingress",
      options.restate.ingressUrl,
      "--restate-admin",
      options.restate.adminUrl,
      "--db",
      options.dbUrl,
      "--port",
      String(options.port),
      "--data-dir",
      options.dataDir,
    ],
    {
      stdio: ["ignore", "ignore", "pipe"],
      env: {
        PATH: process.env.PATH,
        KILN_HOME: options.kilnHome,
        OPENAI_API_KEY: "k",
        KILN_ADMIN_PASSWORD: PASSWORD,
        KILN_LOG_LEVEL: "warn",
      },
    },
  );
  const lines = createInterface({ input: child.stderr as NodeJS.ReadableStream });
  const url = await new Promise<string>((resolve, reject) => {
    lines.on("line", (line) => {
      const listening = /listening on (\S+)/.exec(line)?.[1];
      if (listening !== undefined) resolve(listening);
    });
    child.once("exit", (code) => reject(new Error(`kiln serve exited (${code}) before listening`)));
  });
  const signIn = await fetch(`${url}/api/v1/auth/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "admin", password: PASSWORD }),
  });
  if (signIn.status !== 200) throw new Error(`the admin could not sign in (HTTP ${signIn.status})`);
  const token = ((await signIn.json()) as { access_token: string }).access_token;
  return {
    url,
    process: child,
    async call<T>(method: string, path: string, body?: unknown) {
      const response = await fetch(`${url}/api/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, body: (await response.json()) as T };
    },
    async stream(threadId, { after = 0, turns = 1 } = {}) {
      const response = await fetch(`${url}/api/v1/threads/${threadId}/events`, {
        headers: { authorization: `Bearer ${token}`, "last-event-id": String(after) },
        signal: AbortSignal.timeout(40_000),
      });
      if (response.status !== 200) throw new Error(`the event stream answered HTTP ${response.status}`);
      const envelopes: EventEnvelope[] = [];
      const decoder = new TextDecoder();
      let text = "";
      let left = turns;
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        text += decoder.decode(chunk, { stream: true });
        for (let end = text.indexOf("\n\n"); end >= 0; end = text.indexOf("\n\n")) {
          const data = text
            .slice(0, end)
            .split("\n")
            .find((line) => line.startsWith("data: "));
          text = text.slice(end + 2);
          if (data === undefined) continue;
          const envelope = JSON.parse(data.slice(6)) as EventEnvelope;
          envelopes.push(envelope);
          if (envelope.event.type === "turn/completed" && --left === 0) return envelopes;
        }
      }
      return envelopes;
    },
  };
}
