// How the executor gets a `Kiln` for a user: the server's environment, KILN_HOME set to the server's
// kiln home (where config.toml is read and rollouts are written), and the user's own provider keys
// (secrets) on top, so that a user's OPENAI_API_KEY overrides the server's.
import { Kiln } from "@kiln/core";
import type { UserSecrets } from "../secrets/index.ts";

/** Makes the `Kiln` that runs a user's threads. */
export type KilnFactory = (user: { userId: string }) => Promise<Kiln>;

/** Options of {@link createKilnFactory}. */
export interface KilnFactoryOptions {
  /** The server's KILN_HOME (config.toml, sessions/). */
  kilnHome: string;
  /** The server's environment (provider keys, PATH …). */
  env: Record<string, string | undefined>;
  /** Directory for configuration lookups that have no thread yet (no project config there). */
  cwd: string;
  /** A user's own environment overrides, e.g. `{ OPENAI_API_KEY }` from their secrets. */
  userEnv?: (userId: string) => Promise<Record<string, string>>;
}

/** A factory that builds one `Kiln` per call with the user's keys. */
export function createKilnFactory(options: KilnFactoryOptions): KilnFactory {
  return async ({ userId }) => {
    const own = options.userEnv === undefined ? {} : await options.userEnv(userId);
    return new Kiln({ env: { ...options.env, ...own, KILN_HOME: options.kilnHome }, cwd: options.cwd });
  };
}

/** Model provider keys a user may bring as secrets (they override the server's environment). */
export const USER_PROVIDER_KEYS = ["OPENAI_API_KEY", "ANTHROPIC_API_KEY"] as const;

/** `userEnv` for {@link createKilnFactory}: the user's provider-key secrets that are set. */
export function providerKeysOf(
  secrets: Pick<UserSecrets, "getSecret">,
  names: readonly string[] = USER_PROVIDER_KEYS,
): (userId: string) => Promise<Record<string, string>> {
  return async (userId) => {
    const own: Record<string, string> = {};
    for (const name of names) {
      const value = await secrets.getSecret(userId, name);
      if (value !== undefined) own[name] = value;
    }
    return own;
  };
}
