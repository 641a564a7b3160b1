// The CLI's sign-in to a Kiln server: `$KILN_HOME/credentials.json` (default ~/.kiln), holding the
// server's address and either an access + refresh token pair (from `kiln login`) or a personal API
// token (`kiln login --token`). It is written whole to a temporary file with mode 0600 and renamed over
// the old one, so that a crash (or two processes saving refreshed tokens) never leaves half a file.
// The format is the CLI's own, on this machine only; the token shapes are @kiln/protocol's.
import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { kilnHomeFrom } from "@kiln/core";
import { KilnError, TokenPair } from "@kiln/protocol";
import type { TokenStorage, Tokens } from "@kiln/sdk";
import { z } from "zod";

/** The saved sign-in: the server, with a token pair, a personal API token, or (after a refused refresh) nothing. */
export const Credentials = z.union([
  TokenPair.extend({ server: z.string().min(1) }),
  z.object({ server: z.string().min(1), token: z.string().min(1) }),
  z.object({ server: z.string().min(1) }),
]);
export type Credentials = z.infer<typeof Credentials>;

/** Where the credentials live: `$KILN_HOME/credentials.json`. */
export function credentialsPath(env: Record<string, string | undefined>): string {
  return join(kilnHomeFrom(env), "credentials.json");
}

/** The saved credentials, or `undefined` when there are none; a damaged file is an error saying what to do. */
export async function readCredentials(path: string): Promise<Credentials | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const result = Credentials.safeParse(parsed);
  if (result.success) return result.data;
  throw new KilnError(
    "config_invalid",
    `${path} is not a Kiln credentials file: delete it and run \`kiln login --server URL\``,
  );
}

/** Saves `credentials` atomically with mode 0600 (the directory is created with mode 0700). */
export async function writeCredentials(path: string, credentials: Credentials): Promise<void> {
  const dir = join(path, "..");
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await writeFile(temp, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600, flag: "wx" });
    // The umask cannot widen 0600, but a file system that ignores the mode on create can: make sure.
    await chmod(temp, 0o600);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** The token pair held in `credentials`, if they hold one. */
export function tokensOf(credentials: Credentials | undefined): Tokens | undefined {
  if (credentials === undefined || !("accessToken" in credentials)) return undefined;
  return {
    accessToken: credentials.accessToken,
    refreshToken: credentials.refreshToken,
    expiresAt: credentials.expiresAt,
  };
}

/**
 * A TokenManager storage backed by the credentials file, for `server`: it loads the tokens saved for
 * that server, and saves every new pair (a login, each refresh) with the server's address. A refused
 * refresh (`save(undefined)`) keeps the address, so that `kiln login` needs no `--server` next time.
 */
export function fileTokenStorage(path: string, server: string): TokenStorage {
  return {
    async load() {
      const saved = await readCredentials(path);
      return saved?.server === server ? tokensOf(saved) : undefined;
    },
    async save(tokens) {
      await writeCredentials(path, tokens === undefined ? { server } : { server, ...tokens });
    },
  };
}
