// A user's secrets (model provider keys, environment secrets), sealed with the server's key before
// they reach the store. Each is bound to its owner and name, so a row moved to another user or name
// does not decrypt. Only `getSecret` ever returns a value, and only to server code (the executor).
import type { SecretSummary } from "@kiln/protocol";
import type { KilnStore, SecretInfo } from "@kiln/store";
import { secretScope } from "@kiln/store";
import type { SecretBox } from "./secret-box.ts";

/** Per-user secrets. */
export interface UserSecrets {
  /** The value, for server-side use only (never send it to a client, a log or an event). */
  getSecret(userId: string, name: string): Promise<string | undefined>;
  /** Creates or replaces; returns the summary. */
  putSecret(userId: string, name: string, value: string): Promise<SecretSummary>;
  /** `false` when the user has no such secret. */
  deleteSecret(userId: string, name: string): Promise<boolean>;
  /** Names and update times, by name. */
  listSecrets(userId: string): Promise<SecretSummary[]>;
  /** Secrets of another owner (e.g. `secretScope.environment(id)`), sealed the same way. */
  scoped: {
    get(scope: string, name: string): Promise<string | undefined>;
    put(scope: string, name: string, value: string): Promise<void>;
    delete(scope: string, name: string): Promise<boolean>;
    list(scope: string): Promise<SecretSummary[]>;
  };
}

/** Secrets of users in `store`, sealed by `box`. */
export function createUserSecrets(deps: {
  store: KilnStore;
  box: SecretBox;
  now?: () => number;
}): UserSecrets {
  const { store, box } = deps;
  const now = deps.now ?? Date.now;
  const context = (scope: string, name: string) => `${scope}/${name}`;
  const summary = (s: SecretInfo): SecretSummary => ({ name: s.name, updatedAt: s.updatedAt });
  return {
    async getSecret(userId, name) {
      const scope = secretScope.user(userId);
      const stored = await store.secrets.get(scope, name);
      return stored === undefined ? undefined : box.open(stored, context(scope, name));
    },
    async putSecret(userId, name, value) {
      const scope = secretScope.user(userId);
      const at = now();
      await store.secrets.put({ scope, name, ...box.seal(value, context(scope, name)), now: at });
      const stored = (await store.secrets.list(scope)).find((s) => s.name === name);
      return stored === undefined ? { name, updatedAt: at } : summary(stored);
    },
    deleteSecret: (userId, name) => store.secrets.delete(secretScope.user(userId), name),
    async listSecrets(userId) {
      return (await store.secrets.list(secretScope.user(userId))).map(summary);
    },
    scoped: {
      async get(scope, name) {
        const stored = await store.secrets.get(scope, name);
        return stored === undefined ? undefined : box.open(stored, context(scope, name));
      },
      async put(scope, name, value) {
        await store.secrets.put({ scope, name, ...box.seal(value, context(scope, name)), now: now() });
      },
      delete: (scope, name) => store.secrets.delete(scope, name),
      list: async (scope) => (await store.secrets.list(scope)).map(summary),
    },
  };
}
