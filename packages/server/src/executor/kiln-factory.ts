// How the executor gets a `Kiln` for a user: the server's environment, KILN_HOME set to the server's
// kiln home (where config.toml is read and rollouts are written), and the user's own provider keys
// (secrets) on top, so that a user's OPENAI_API_KEY overrides the server's.
import { Kiln } from "@kiln/core";

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
