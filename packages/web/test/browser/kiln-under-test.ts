/// <reference types="node" />
// The server the browser tests drive: the real bundled `kiln serve` (built by the vitest global setup)
// as a child process on a free loopback port, its models sent to the fake model server through a
// KILN_HOME config.toml, the admin user created from KILN_ADMIN_PASSWORD. The admin signs in over the
// API once: the bearer token sets up fixtures (environments, tasks), the session cookie goes into
// browser contexts that should start signed in (so no test depends on another's sign-in, and the
// per-username login rate limit is never reached).
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type FakeModelServer, type Scenario, startFakeModelServer } from "@kiln/test-support";

const KILN_BIN = fileURLToPath(new URL("../../../cli/dist/kiln.js", import.meta.url));

/** The admin's name and password in every server the browser tests start. */
export const ADMIN = { username: "admin", password: "admin-password" } as const;

/** A cookie as a browser context takes it (Playwright's `addCookies` shape). */
export interface SessionCookie {
  name: string;
  value: string;
  url: string;
  httpOnly: boolean;
  sameSite: "Strict" | "Lax" | "None";
}

/** An API answer: status and parsed JSON body. */
export interface ApiAnswer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: fixtures read whatever the response holds
  body: any;
}

/** A running `kiln serve` with its fake model. */
export interface KilnUnderTest {
  /** e.g. `http://127.0.0.1:PORT` (the web app is served at `/`). */
  url: string;
  /** The fake model server every model request goes to. */
  model: FakeModelServer;
  /** The session cookies of a fresh admin sign-in, for `context.addCookies`. */
  adminCookies: SessionCookie[];
  /** Calls the API as the admin (bearer token); throws, naming the call, when the status is not 2xx. */
  api(method: string, path: string, body?: unknown): Promise<ApiAnswer>;
  /** What the server wrote to stderr so far (its human-readable lines). */
  stderr(): string;
  /** What the server wrote to stdout so far (pino JSON logs). */
  stdout(): string;
  /** Stops the server and the fake model and removes the temporary directories. */
  close(): Promise<void>;
}

/** Starts the fake model (playing `scenario`) and `kiln serve` on a fresh data directory. */
export async function startKilnUnderTest(
  options: { scenario?: Scenario; signal?: AbortSignal } = {},
): Promise<KilnUnderTest> {
  const model = await startFakeModelServer({ scenario: options.scenario ?? { steps: [] } });
  const home = await mkdtemp(join(tmpdir(), "kiln-browser-"));
  let child: ChildProcess | undefined;
  try {
    await mkdir(home, { recursive: true });
    await writeFile(
      join(home, "config.toml"),
      `model = "gpt-test"\nopenai_base_url = "${model.url}"\n\n[model_providers.openai]\nretry_base_delay_ms = 20\n`,
    );
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: home,
      KILN_HOME: home,
      LANG: "C.UTF-8",
      OPENAI_API_KEY: "test",
      KILN_ADMIN_PASSWORD: ADMIN.password,
      KILN_LOG_LEVEL: "warn",
    };
    const spawned = spawn(
      process.execPath,
      [KILN_BIN, "serve", "--port", "0", "--data-dir", join(home, "data")],
      { env, stdio: ["ignore", "pipe", "pipe"] },
    );
    child = spawned;
    let stderr = "";
    let stdout = "";
    spawned.stdout?.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    spawned.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<void>((resolve) => spawned.once("exit", () => resolve()));
    // The URL is printed before the admin user is created: wait for both lines.
    await waitFor(
      () =>
        /listening on http:\/\/\S+/.test(stderr) &&
        /created the admin user|the admin user exists/.test(stderr),
      () => `kiln serve did not start (is packages/cli/dist/kiln.js built?):\n${stderr}`,
      exited,
      options.signal,
    );
    const url = /listening on (http:\/\/\S+)/.exec(stderr)?.[1] as string;
    // Without packages/web/dist/index.html at start-up the server serves no app: say so plainly.
    const app = await fetch(`${url}/tasks`);
    await app.body?.cancel();
    if (!(app.headers.get("content-type") ?? "").includes("text/html")) {
      throw new Error(
        `kiln serve does not serve the web app (GET /tasks answered ${app.status}): build it with \`node scripts/build.mjs\` (packages/web/dist)`,
      );
    }
    const login = await fetch(`${url}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(ADMIN),
    });
    if (login.status !== 200)
      throw new Error(`admin sign-in failed (${login.status}): ${await login.text()}`);
    const token = ((await login.json()) as { accessToken: string }).accessToken;
    const adminCookies = login.headers.getSetCookie().map((line) => cookieFrom(line, url));
    return {
      url,
      model,
      adminCookies,
      api: (method, path, body) => callApi(url, token, method, path, body),
      stderr: () => stderr,
      stdout: () => stdout,
      async close() {
        if (spawned.exitCode === null && spawned.signalCode === null) spawned.kill("SIGKILL");
        await exited;
        await model.close();
        await rm(home, { recursive: true, force: true });
      },
    };
  } catch (error) {
    child?.kill("SIGKILL");
    await model.close();
    await rm(home, { recursive: true, force: true });
    throw error;
  }
}

async function callApi(
  url: string,
  token: string,
  method: string,
  path: string,
  body: unknown,
): Promise<ApiAnswer> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${url}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  const parsed: unknown = text === "" ? undefined : JSON.parse(text);
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return { status: response.status, body: parsed };
}

/** A `Set-Cookie` line as a cookie for `url` (the attributes a browser context needs). */
function cookieFrom(line: string, url: string): SessionCookie {
  const [pair = "", ...attributes] = line.split(";").map((part) => part.trim());
  const eq = pair.indexOf("=");
  const lower = attributes.map((a) => a.toLowerCase());
  const sameSite = lower.find((a) => a.startsWith("samesite="))?.slice("samesite=".length);
  return {
    name: pair.slice(0, eq),
    value: pair.slice(eq + 1),
    url,
    httpOnly: lower.includes("httponly"),
    sameSite: sameSite === "strict" ? "Strict" : sameSite === "none" ? "None" : "Lax",
  };
}

async function waitFor(
  done: () => boolean,
  failure: () => string,
  exited: Promise<void>,
  signal: AbortSignal | undefined,
): Promise<void> {
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const deadline = Date.now() + 20_000;
  while (!done()) {
    signal?.throwIfAborted();
    if (gone) throw new Error(`kiln serve exited before it was ready. ${failure()}`);
    if (Date.now() > deadline) throw new Error(failure());
    await new Promise((r) => setTimeout(r, 20));
  }
}
