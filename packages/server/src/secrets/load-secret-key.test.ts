import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadSecretKey } from "./load-secret-key.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kiln-key-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("loadSecretKey", () => {
  it("generates a 32-byte key once into <dataDir>/secret.key with mode 0600, and reads it back", async () => {
    const dataDir = join(dir, "data");
    const key = await loadSecretKey({ env: {}, dataDir });
    expect(key.length).toBe(32);
    const file = join(dataDir, "secret.key");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(Buffer.from((await readFile(file, "utf8")).trim(), "base64")).toEqual(key);
    expect(await loadSecretKey({ env: {}, dataDir })).toEqual(key);
  });

  it("two servers starting at once end up with the same key", async () => {
    const [a, b] = await Promise.all([
      loadSecretKey({ env: {}, dataDir: dir }),
      loadSecretKey({ env: {}, dataDir: dir }),
    ]);
    expect(a).toEqual(b);
  });

  it("refuses a key file that group or others can read, saying how to fix it", async () => {
    const file = join(dir, "secret.key");
    await writeFile(file, randomBytes(32).toString("base64"));
    await chmod(file, 0o644);
    await expect(loadSecretKey({ env: {}, dataDir: dir })).rejects.toMatchObject({
      code: "config_invalid",
      message: `the secret key ${file} may be read by group or others (mode 0644): run \`chmod 600 ${file}\`, and rotate it if others may have read it`,
    });
  });

  it("takes KILN_SECRET_KEY in base64 or hex over the file", async () => {
    const key = randomBytes(32);
    expect(await loadSecretKey({ env: { KILN_SECRET_KEY: key.toString("base64") }, dataDir: dir })).toEqual(
      key,
    );
    expect(await loadSecretKey({ env: { KILN_SECRET_KEY: key.toString("hex") }, dataDir: dir })).toEqual(key);
    expect(
      await loadSecretKey({ env: { KILN_SECRET_KEY: ` ${key.toString("base64url")}\n` }, dataDir: dir }),
    ).toEqual(key);
    await expect(stat(join(dir, "secret.key"))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("refuses a KILN_SECRET_KEY of the wrong length or encoding without echoing it", async () => {
    const short = randomBytes(16).toString("base64");
    await expect(loadSecretKey({ env: { KILN_SECRET_KEY: short }, dataDir: dir })).rejects.toMatchObject({
      code: "config_invalid",
      message:
        "KILN_SECRET_KEY holds 16 bytes, not 32: use 32 random bytes in base64 or hex, e.g. `openssl rand -base64 32`",
    });
    const garbage = "not a key!";
    const error = await loadSecretKey({ env: { KILN_SECRET_KEY: garbage }, dataDir: dir }).catch(
      (e: Error) => e,
    );
    expect(error).toMatchObject({
      code: "config_invalid",
      message: expect.stringContaining("neither base64 nor hex"),
    });
    expect((error as Error).message).not.toContain(garbage);
  });

  it("refuses a key file of the wrong length", async () => {
    const file = join(dir, "secret.key");
    await writeFile(file, randomBytes(31).toString("base64"), { mode: 0o600 });
    await expect(loadSecretKey({ env: {}, dataDir: dir })).rejects.toThrow(`${file} holds 31 bytes, not 32`);
  });
});
