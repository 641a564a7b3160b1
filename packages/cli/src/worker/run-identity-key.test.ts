// `kiln worker identity-key`: makes a request signing key pair (the private key in a 0600 file, the
// public key on stdout) and prints the public key of an existing private key, on real files.
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { publicKeyFromPrivatePem } from "@kiln/durable";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CliIo } from "../exec/run-exec.ts";
import { runWorker } from "./run-worker.ts";

function io(argv: string[], cwd: string) {
  const out = { stdout: "", stderr: "" };
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on("data", (chunk: Buffer) => {
    out.stdout += chunk.toString();
  });
  stderr.on("data", (chunk: Buffer) => {
    out.stderr += chunk.toString();
  });
  const cli = {
    argv: ["identity-key", ...argv],
    env: {},
    cwd,
    stdin: process.stdin,
    stdout: stdout as unknown as NodeJS.WriteStream,
    stderr: stderr as unknown as NodeJS.WriteStream,
  } satisfies CliIo;
  return { cli, out };
}

describe("kiln worker identity-key", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "kiln-identity-key-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes a new private key readable by its owner only and prints its public key alone on stdout", async () => {
    const { cli, out } = io(["--out", "restate-key.pem"], dir);
    expect(await runWorker(cli)).toBe(0);
    const pem = await readFile(join(dir, "restate-key.pem"), "utf8");
    expect((await stat(join(dir, "restate-key.pem"))).mode & 0o777).toBe(0o600);
    expect(out.stdout).toBe(`${publicKeyFromPrivatePem(pem)}\n`);
    expect(out.stdout).toMatch(/^publickeyv1_[1-9A-HJ-NP-Za-km-z]+\n$/);
    expect(out.stderr).toContain("request-identity-private-key-pem-file");
  });

  it("prints the public key of a key made by openssl", async () => {
    const file = join(dir, "openssl.pem");
    execFileSync("openssl", ["genpkey", "-algorithm", "ed25519", "-out", file], { stdio: "ignore" });
    const { cli, out } = io(["--private-key", file], dir);
    expect(await runWorker(cli)).toBe(0);
    expect(out.stdout).toBe(`${publicKeyFromPrivatePem(await readFile(file, "utf8"))}\n`);
  });

  it("never overwrites an existing file", async () => {
    await writeFile(join(dir, "taken.pem"), "keep me");
    const { cli } = io(["--out", "taken.pem"], dir);
    await expect(runWorker(cli)).rejects.toThrow(/taken\.pem already exists/);
    expect(await readFile(join(dir, "taken.pem"), "utf8")).toBe("keep me");
  });

  it("refuses an RSA key, saying Restate needs Ed25519", async () => {
    const file = join(dir, "rsa.pem");
    execFileSync("openssl", [
      "genpkey",
      "-algorithm",
      "rsa",
      "-pkeyopt",
      "rsa_keygen_bits:1024",
      "-out",
      file,
    ]);
    const { cli } = io(["--private-key", file], dir);
    await expect(runWorker(cli)).rejects.toThrow(/Ed25519 keys, but this PEM holds a key of type rsa/);
  });

  it("exits 2 with its usage when given neither or both of --out and --private-key", async () => {
    const neither = io([], dir);
    const both = io(["--out", "a.pem", "--private-key", "b.pem"], dir);
    expect([await runWorker(neither.cli), await runWorker(both.cli)]).toEqual([2, 2]);
    for (const { out } of [neither, both])
      expect(out.stderr).toContain(
        "give either --out FILE (a new key) or --private-key FILE (an existing key)",
      );
  });
});
