// `kiln worker` against a real restate-server (from npm, on loopback) and a real PostgreSQL
// (KILN_TEST_PG_URL; skipped without it): it serves, registers itself, and stops on its signal; given
// restate-server's public key it serves only requests signed with the matching private key.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { generateRequestIdentity, type RestateServer, startRestateServer } from "@kiln/durable";
import { createPostgresTestDatabase, type TestDatabase } from "@kiln/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CliIo } from "../exec/run-exec.ts";
import { parseWorkerArgs, runWorker } from "./run-worker.ts";

const pgUrl = process.env.KILN_TEST_PG_URL || undefined;

function io(argv: string[], home: string, env: Record<string, string> = {}) {
  const stderr = new PassThrough();
  const stdout = new PassThrough();
  let err = "";
  stderr.on("data", (chunk: Buffer) => {
    err += chunk.toString();
  });
  const cli = {
    argv,
    env: { KILN_HOME: home, PATH: process.env.PATH, ...env },
    cwd: home,
    stdin: process.stdin,
    stdout: stdout as unknown as NodeJS.WriteStream,
    stderr: stderr as unknown as NodeJS.WriteStream,
  } satisfies CliIo;
  return { cli, stderr: () => err };
}

describe("kiln worker arguments", () => {
  it("reads the admin URL, the database, the port and the advertised address", () => {
    expect(
      parseWorkerArgs([
        "--restate-admin",
        "http://restate:9070",
        "--db",
        "postgres://kiln@db/kiln",
        "--port",
        "9081",
        "--host",
        "0.0.0.0",
        "--advertise",
        "http://workers:9080",
      ]),
    ).toEqual({
      restateAdmin: "http://restate:9070",
      db: "postgres://kiln@db/kiln",
      port: 9081,
      host: "0.0.0.0",
      advertise: "http://workers:9080",
      register: true,
      identityKeys: [],
      workspaces: "shared",
    });
  });

  it("takes --workspaces checkpoint for node-local disks, and refuses other modes", () => {
    const base = ["--restate-admin", "http://restate:9070", "--db", "postgres://kiln@db/kiln"];
    expect(parseWorkerArgs([...base, "--workspaces", "checkpoint"])?.workspaces).toBe("checkpoint");
    expect(() => parseWorkerArgs([...base, "--workspaces", "nfs"])).toThrow(
      '--workspaces must be "shared" or "checkpoint", not "nfs"',
    );
  });

  it("takes repeated --restate-identity-key flags over $KILN_RESTATE_IDENTITY_KEYS", () => {
    const a = generateRequestIdentity().publicKey;
    const b = generateRequestIdentity().publicKey;
    const c = generateRequestIdentity().publicKey;
    const base = ["--restate-admin", "http://restate:9070", "--db", "postgres://kiln@db/kiln"];
    const env = { KILN_RESTATE_IDENTITY_KEYS: ` ${a}, ${b},` };
    expect({
      env: parseWorkerArgs(base, env)?.identityKeys,
      flags: parseWorkerArgs([...base, "--restate-identity-key", c, "--restate-identity-key", a], env)
        ?.identityKeys,
      none: parseWorkerArgs(base, {})?.identityKeys,
    }).toEqual({ env: [a, b], flags: [c, a], none: [] });
  });

  it("exits 2 and names a malformed identity key before opening anything", async () => {
    const { cli, stderr } = io(
      ["--restate-admin", "http://127.0.0.1:9070", "--db", "postgres://nobody@127.0.0.1:1/none"],
      "/tmp",
      { KILN_RESTATE_IDENTITY_KEYS: "publickeyv1_short" },
    );
    expect(await runWorker(cli)).toBe(2);
    expect(stderr()).toContain('"publickeyv1_short" is not a Restate request identity public key');
  });

  it("exits 2 and says what is missing when --db is not PostgreSQL", async () => {
    const { cli, stderr } = io(["--restate-admin", "http://127.0.0.1:9070", "--db", "sqlite:/x.db"], "/tmp");
    expect(await runWorker(cli)).toBe(2);
    expect(stderr()).toContain("--db postgres://… is required");
  });
});

describe.skipIf(pgUrl === undefined)(
  `kiln worker with restate-server and PostgreSQL${pgUrl === undefined ? " — SKIPPED: KILN_TEST_PG_URL is not set" : ""}`,
  () => {
    let db: TestDatabase;
    let restate: RestateServer;
    let home: string;
    beforeAll(async () => {
      db = await createPostgresTestDatabase(pgUrl ?? "");
      home = await mkdtemp(join(tmpdir(), "kiln-worker-"));
      restate = await startRestateServer({ baseDir: home });
    });
    afterAll(async () => {
      await restate?.stop();
      await db?.drop();
      await rm(home, { recursive: true, force: true });
    });

    it("serves the thread object, registers it with Restate, and stops when told to", async () => {
      const { cli, stderr } = io(["--restate-admin", restate.adminUrl, "--db", db.url, "--port", "0"], home);
      const stop = new AbortController();
      const exit = runWorker(cli, stop.signal);
      const deadline = Date.now() + 15_000;
      while (!stderr().includes("registered")) {
        if (Date.now() > deadline) throw new Error(`the worker did not register: ${stderr()}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const services = (await (await fetch(`${restate.adminUrl}/services`)).json()) as {
        services: { name: string; ty: string; handlers: { name: string }[] }[];
      };
      const served = services.services
        .map((s) => ({ name: s.name, ty: s.ty, handlers: s.handlers.map((h) => h.name).sort() }))
        .sort((a, b) => a.name.localeCompare(b.name));
      expect(served).toEqual([
        { name: "KilnApproval", ty: "VirtualObject", handlers: ["decide", "register"] },
        { name: "KilnThread", ty: "VirtualObject", handlers: ["replaceHistory", "runTurn", "seedHistory"] },
      ]);
      stop.abort();
      expect(await exit).toBe(0);
      expect(stderr()).toContain("serving unsigned requests: anyone who reaches this port can run turns");
      expect(stderr()).toMatch(
        /serving on http:\/\/127\.0\.0\.1:\d+, registered with .* as http:\/\/127\.0\.0\.1:\d+\n.*abort: stopping/,
      );
    });

    it("registers with a signing restate-server when given its public key in $KILN_RESTATE_IDENTITY_KEYS", async () => {
      const identity = generateRequestIdentity();
      const baseDir = join(home, "signing-restate");
      await mkdir(baseDir);
      const signing = await startRestateServer({
        baseDir,
        requestIdentityPrivateKeyPem: identity.privateKeyPem,
      });
      try {
        const { cli, stderr } = io(
          ["--restate-admin", signing.adminUrl, "--db", db.url, "--port", "0"],
          home,
          {
            KILN_RESTATE_IDENTITY_KEYS: identity.publicKey,
          },
        );
        const stop = new AbortController();
        const exit = runWorker(cli, stop.signal);
        const deadline = Date.now() + 15_000;
        while (!stderr().includes("registered")) {
          if (Date.now() > deadline) throw new Error(`the worker did not register: ${stderr()}`);
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        stop.abort();
        expect(await exit).toBe(0);
        expect(stderr()).toContain("serving only requests signed by restate-server (1 identity key)");
      } finally {
        await signing.stop();
      }
    });
  },
);
