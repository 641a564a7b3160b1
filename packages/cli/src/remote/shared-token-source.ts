// Access tokens shared by every `kiln` process of the user (they all read the credentials file).
// Refresh tokens rotate, and the server takes a refresh token presented twice as a leak and revokes
// the whole family: two commands that found the access token expired at once would log the user out.
// So a process about to refresh takes a lock file next to the credentials, loads the file again (if
// another process refreshed meanwhile, its tokens are used as they are), refreshes only if it still
// has to (the TokenManager saves the new pair through the file storage), then releases the lock.
import { open, rm, stat } from "node:fs/promises";
import { KilnError } from "@kiln/protocol";
import type { AccessTokenSource, TokenManager, TokenStorage } from "@kiln/sdk";

/** Refresh this long before the access token expires (give the same to the TokenManager). */
export const REFRESH_MARGIN_MS = 60_000;
/** A lock older than this was left by a process that died: it is taken over. */
const STALE_LOCK_MS = 30_000;
/** How long to wait for another process's refresh before giving up. */
const LOCK_WAIT_MS = 15_000;

/**
 * An AccessTokenSource over `manager` (whose storage is `storage`, the credentials file) that refreshes
 * under the lock file `lockPath`, as the module comment says.
 */
export function sharedTokenSource(
  manager: TokenManager,
  storage: TokenStorage,
  lockPath: string,
  now: () => number = Date.now,
): AccessTokenSource {
  return {
    async getAccessToken(options = {}) {
      const current = await manager.getTokens();
      const fresh =
        current !== undefined &&
        current.expiresAt - REFRESH_MARGIN_MS > now() &&
        current.accessToken !== options.rejectedToken;
      if (fresh) return current.accessToken;
      return withLock(lockPath, options.signal, async () => {
        const saved = await storage.load();
        if (saved !== undefined && saved.refreshToken !== current?.refreshToken) {
          // Another process refreshed (or logged in) while we waited: its tokens are the live ones.
          await manager.setTokens(saved);
        }
        return manager.getAccessToken(options);
      });
    },
  };
}

/** Runs `body` holding the lock file `path` (created exclusively; removed afterwards). */
async function withLock<T>(
  path: string,
  signal: AbortSignal | undefined,
  body: () => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    signal?.throwIfAborted();
    try {
      const handle = await open(path, "wx", 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const age = await stat(path).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    if (age > STALE_LOCK_MS) {
      await rm(path, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new KilnError(
        "timeout",
        `another kiln process has been renewing your session for ${LOCK_WAIT_MS / 1000} s (${path}): if none is running, delete that file`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 25 + Math.random() * 50));
  }
  try {
    return await body();
  } finally {
    await rm(path, { force: true });
  }
}
