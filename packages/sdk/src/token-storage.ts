// Where a TokenManager keeps its tokens between runs: in memory, or in the browser's localStorage.
// (The CLI's file storage lives in the CLI: this package does not touch the file system.)
import { KilnError, TokenPair } from "@kiln/protocol";

/** An access + refresh token pair, and when the access token expires (Unix ms). */
export type Tokens = TokenPair;

/** Loads and saves a TokenManager's tokens; `save(undefined)` forgets them (after a failed refresh). */
export interface TokenStorage {
  load(): Promise<Tokens | undefined> | Tokens | undefined;
  save(tokens: Tokens | undefined): Promise<void> | void;
}

/** Keeps tokens in memory (they are lost when the process ends). */
export function memoryStorage(initial?: Tokens): TokenStorage & { readonly current: Tokens | undefined } {
  let current = initial;
  return {
    get current() {
      return current;
    },
    load: () => current,
    save: (tokens) => {
      current = tokens;
    },
  };
}

/** The part of the Web Storage API that {@link localStorageStorage} uses. */
export interface WebStorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/**
 * Keeps tokens in the browser's `localStorage` under `key` (any page script of the origin can read
 * them: prefer the HttpOnly session cookie for a web app served by Kiln itself). A value that is not a
 * token pair (another app's, an old format) counts as no tokens.
 */
export function localStorageStorage(key: string, storage?: WebStorageLike): TokenStorage {
  const store = (): WebStorageLike => {
    const found = storage ?? (globalThis as { localStorage?: WebStorageLike }).localStorage;
    if (found === undefined) {
      throw new KilnError("config_invalid", "localStorage is not available here: pass the storage to use");
    }
    return found;
  };
  return {
    load() {
      const text = store().getItem(key);
      if (text === null) return undefined;
      try {
        return TokenPair.safeParse(JSON.parse(text)).data;
      } catch {
        return undefined;
      }
    },
    save(tokens) {
      if (tokens === undefined) store().removeItem(key);
      else store().setItem(key, JSON.stringify(tokens));
    },
  };
}
