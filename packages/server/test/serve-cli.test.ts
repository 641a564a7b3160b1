import { spawnSync } from "node:child_process";
import { mkdtemp, readlink, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ServeProcess, startServe, stderrMatching } from "./serve-process.ts";
import { callApi } from "./server-harness.ts";

const KILN_BIN = fileURLToPath(new URL("../../cli/dist/kiln.js", import.meta.url));
let home: string;
let env: Record<string, string>;
const started: ServeProcess[] = [];

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), "kiln-serve-cli-"));
  env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, KILN_HOME: home, KILN_LOG_LEVEL: "warn" };
});
afterEach(async () => {
  for (const p of started.splice(0)) {
    p.child.kill("SIGTERM");
    await p.exited;
  }
  await rm(home, { recursive: true, force: true });
});

describe("kiln serve", () => {
  it("prints a one-time setup link on first run, links the CLI's config.toml, and answers /healthz and /readyz", async () => {
    const p = await startServe(join(home, "server"), env);
    started.push(p);
    expect(p.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await stderrMatching(p, new RegExp(`finish set-up: open ${p.url}/setup#token=\\S+`));
    expect(await readlink(join(home, "server", "kiln-home", "config.toml"))).toBe(join(home, "config.toml"));
    expect((await callApi(p.url, undefined, "GET", "/healthz")).body).toEqual({ status: "ok" });
    expect((await callApi(p.url, undefined, "GET", "/readyz")).body).toEqual({ status: "ok" });
    expect((await callApi(p.url, undefined, "GET", "/api/v1/threads")).status).toBe(401);
  });

  it("warns that there is no TLS when bound to another address than loopback", async () => {
    const p = await startServe(join(home, "server"), { ...env, KILN_ADMIN_PASSWORD: "admin-password" }, [
      "--host",
      "0.0.0.0",
    ]);
    started.push(p);
    await stderrMatching(p, /created the admin user/);
    expect(p.stderr()).toMatch(
      /warning: 0\.0\.0\.0 is reachable from other machines and this server has no TLS/,
    );
  });

  it("refuses unknown options with exit status 2", () => {
    const run = spawnSync(process.execPath, [KILN_BIN, "serve", "--colour"], { env, encoding: "utf8" });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/kiln serve: Unknown option '--colour'/);
  });
});
