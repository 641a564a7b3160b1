import { spawn } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { basename, dirname } from "node:path";
import { KilnError } from "@kiln/protocol";
import { createFakeForge, type FakeForge } from "@kiln/test-support";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { publishAttempt } from "./publish-attempt.ts";
import { createPublishFixture, type PublishFixture } from "./publish-fixture.ts";

// A real git smart-HTTP server: git-http-backend as CGI behind node:http, which answers 401 unless the
// request carries GitHub's token form of Basic auth. It speaks protocol v0 (no Git-Protocol header is
// passed on), which refuses to fetch a commit that is not a branch tip: the fixture's base commit is
// `main~1`, so publishing exercises the fallback to fetching the base branch.

const TOKEN = "ghp_httpSecretToken456";
let fx: PublishFixture;
let gitServer: Server;
let repoUrl: string;
/** Authorization headers seen, and whether the token was on any process's command line meanwhile. */
const seen = { authorization: [] as string[], argvScans: [] as Promise<boolean>[] };
let forge: FakeForge;

beforeAll(async () => {
  fx = await createPublishFixture();
  gitServer = createServer((req, res) => {
    seen.authorization.push(req.headers.authorization ?? "");
    // git is waiting for this answer now: its processes, and their command lines, are alive.
    seen.argvScans.push(tokenOnAnyCommandLine());
    const expected = `Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString("base64")}`;
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { "WWW-Authenticate": 'Basic realm="git"' }).end("unauthorized");
      return;
    }
    void cgi(req, dirname(fx.bare)).then(({ status, headers, body }) =>
      res.writeHead(status, headers).end(body),
    );
  });
  await new Promise<void>((resolve) => gitServer.listen(0, "127.0.0.1", resolve));
  repoUrl = `http://127.0.0.1:${(gitServer.address() as AddressInfo).port}/${basename(fx.bare)}`;
});
afterAll(async () => {
  gitServer.closeAllConnections();
  await new Promise((resolve) => gitServer.close(resolve));
  await fx.cleanup();
});
beforeEach(async () => {
  await fx.resetBare();
  seen.authorization = [];
  seen.argvScans = [];
  forge = await createFakeForge({ kind: "github", token: TOKEN });
});
afterEach(() => forge.close());

describe("publishAttempt over HTTP", () => {
  it("fetches and pushes with the forge token in a header, never on a command line or on disk", async () => {
    const published = await publishAttempt({
      repository: repoUrl,
      baseCommit: fx.baseCommit,
      baseBranch: "main",
      branch: "kiln/task_2-0",
      diff: fx.first.diff,
      title: "Add gears",
      body: "",
      workDir: fx.workDir,
      forge: { kind: "github", apiUrl: forge.url, repo: "acme/widgets", token: TOKEN },
    });

    expect((await fx.bareGit("rev-parse", "refs/heads/kiln/task_2-0")).trim()).toBe(published.commit);
    expect((await fx.bareGit("rev-parse", `${published.commit}^{tree}`)).trim()).toBe(fx.first.tree);
    expect((await fx.bareGit("log", "-1", "--format=%B", published.commit)).trim()).toBe("Add gears");
    expect(published.pullRequest?.number).toBe(1);
    expect(seen.authorization.length).toBeGreaterThan(0);
    expect(new Set(seen.authorization)).toEqual(
      new Set([`Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString("base64")}`]),
    );
    expect(await Promise.all(seen.argvScans)).toEqual(seen.argvScans.map(() => false));
    expect(await fx.readAll(fx.bare)).not.toContain(TOKEN);
    expect(await readdir(fx.workDir)).toEqual([]);
  });

  it("a token the git server refuses fails with publish_failed that says so without showing it", async () => {
    const wrong = "ghp_wrongWrongWrong789";
    const error = await publishAttempt({
      repository: repoUrl,
      baseCommit: fx.baseCommit,
      baseBranch: "main",
      branch: "kiln/task_2-0",
      diff: fx.first.diff,
      title: "Add gears",
      body: "",
      workDir: fx.workDir,
      forge: { kind: "github", apiUrl: forge.url, repo: "acme/widgets", token: wrong },
    }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(KilnError);
    const info = (error as KilnError).toInfo();
    expect(info.code).toBe("publish_failed");
    expect(info.message).toBe(
      `could not fetch main from ${repoUrl}: fatal: could not read Username for '${new URL(repoUrl).origin}': terminal prompts disabled (the repository refused the forge token: check the environment's FORGE_TOKEN and that it may push)`,
    );
    expect(JSON.stringify(info)).not.toContain(wrong);
    expect(JSON.stringify(info)).not.toContain(Buffer.from(`x-access-token:${wrong}`).toString("base64"));
    expect(forge.requests).toEqual([]);
  });
});

/** Runs git-http-backend for one request and parses its CGI answer. */
async function cgi(
  req: IncomingMessage,
  projectRoot: string,
): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
  const url = new URL(req.url ?? "/", "http://localhost");
  const child = spawn("git", ["http-backend"], {
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_PROJECT_ROOT: projectRoot,
      GIT_HTTP_EXPORT_ALL: "1",
      REMOTE_USER: "x-access-token",
      REMOTE_ADDR: "127.0.0.1",
      REQUEST_METHOD: req.method ?? "GET",
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: req.headers["content-type"] ?? "",
      HTTP_CONTENT_ENCODING: req.headers["content-encoding"] ?? "",
    },
  });
  req.pipe(child.stdin);
  const chunks: Buffer[] = [];
  child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
  await new Promise((resolve) => child.on("close", resolve));
  const out = Buffer.concat(chunks);
  const split = out.indexOf("\r\n\r\n");
  const headers: Record<string, string> = {};
  let status = 200;
  for (const line of out.subarray(0, split).toString("latin1").split("\r\n")) {
    const colon = line.indexOf(":");
    const [name, value] = [line.slice(0, colon).trim(), line.slice(colon + 1).trim()];
    if (name.toLowerCase() === "status") status = Number.parseInt(value, 10);
    else headers[name] = value;
  }
  return { status, headers, body: out.subarray(split + 4) };
}

/** Whether any process on the machine has the token in its argv (what `ps` shows). */
async function tokenOnAnyCommandLine(): Promise<boolean> {
  const pids = (await readdir("/proc")).filter((name) => /^\d+$/.test(name));
  const base64 = Buffer.from(`x-access-token:${TOKEN}`).toString("base64");
  for (const pid of pids) {
    const argv = await readFile(`/proc/${pid}/cmdline`, "latin1").catch(() => "");
    if (argv.includes(TOKEN) || argv.includes(base64)) return true;
  }
  return false;
}
