// The server's 32-byte secret key: from KILN_SECRET_KEY (base64 or hex), else from
// `<dataDir>/secret.key`, generated on first run with mode 0600. A key file that group or others may
// read is refused rather than used: whoever reads it can decrypt every secret and forge tokens.
import { randomBytes } from "node:crypto";
import { link, mkdir, readFile, stat, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { KilnError } from "@kiln/protocol";

/** The key file's name inside the data directory. */
export const SECRET_KEY_FILE = "secret.key";

const KEY_BYTES = 32;

/** Where {@link loadSecretKey} looks. */
export interface LoadSecretKeyOptions {
  env: { KILN_SECRET_KEY?: string };
  dataDir: string;
}

/** Loads (or creates once) the server's secret key; `config_invalid` with what to do otherwise. */
export async function loadSecretKey(options: LoadSecretKeyOptions): Promise<Buffer> {
  const fromEnv = options.env.KILN_SECRET_KEY;
  if (fromEnv !== undefined && fromEnv.trim() !== "") return decodeKey(fromEnv, "KILN_SECRET_KEY");

  const path = join(options.dataDir, SECRET_KEY_FILE);
  const existing = await readKeyFile(path);
  if (existing !== undefined) return existing;

  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  // Written whole under a temporary name, then linked into place: a crash never leaves half a key,
  // and of two servers starting at once the second links nothing and reads the first one's key.
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  await writeFile(temporary, `${randomBytes(KEY_BYTES).toString("base64")}\n`, { mode: 0o600, flag: "wx" });
  try {
    await link(temporary, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    await unlink(temporary);
  }
  const created = await readKeyFile(path);
  if (created === undefined)
    throw new KilnError("config_invalid", `could not create the secret key file ${path}`);
  return created;
}

async function readKeyFile(path: string): Promise<Buffer | undefined> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  if (!info.isFile()) throw new KilnError("config_invalid", `the secret key ${path} is not a regular file`);
  if ((info.mode & 0o077) !== 0) {
    const mode = (info.mode & 0o777).toString(8).padStart(4, "0");
    throw new KilnError(
      "config_invalid",
      `the secret key ${path} may be read by group or others (mode ${mode}): run \`chmod 600 ${path}\`, and rotate it if others may have read it`,
    );
  }
  return decodeKey(await readFile(path, "utf8"), path);
}

/** A key in base64 (or base64url) or hex; exactly 32 bytes. The value is never echoed. */
export function decodeKey(text: string, source: string): Buffer {
  const value = text.trim();
  const hint = "use 32 random bytes in base64 or hex, e.g. `openssl rand -base64 32`";
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]+$/.test(value) && value.length === KEY_BYTES * 2) key = Buffer.from(value, "hex");
  else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) key = Buffer.from(value, "base64");
  if (key === undefined)
    throw new KilnError("config_invalid", `${source} is neither base64 nor hex: ${hint}`);
  if (key.length !== KEY_BYTES) {
    throw new KilnError("config_invalid", `${source} holds ${key.length} bytes, not ${KEY_BYTES}: ${hint}`);
  }
  return key;
}
