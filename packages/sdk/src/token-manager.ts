// Access + refresh tokens for a program: log in once, then every request gets a valid access token.
// The access token (15 min) is refreshed a minute before it expires; concurrent callers share one
// refresh, because refresh tokens rotate and presenting a used one twice revokes the whole family
// (the server takes reuse as a leak). Every change is saved through the storage; a refresh the
// server refuses (401) forgets the tokens and asks the user to log in again.
import { LoginResponse, type PublicUser, TokenPair } from "@kiln/protocol";
import { KilnApiError, KilnLoginRequiredError } from "./errors.ts";
import { type AccessTokenSource, HttpClient } from "./http-client.ts";
import type { TokenStorage, Tokens } from "./token-storage.ts";

/** Options of a {@link TokenManager}. */
export interface TokenManagerOptions {
  /** The server's address, e.g. `https://kiln.example.com`. */
  baseUrl: string;
  /** Where tokens are loaded from and saved to (default: memory only). */
  storage?: TokenStorage;
  fetch?: typeof fetch;
  /** The clock (Unix ms); tests move it. */
  now?: () => number;
  /** Refresh this long before the access token expires, in ms (default 60 000). */
  refreshMarginMs?: number;
  userAgent?: string;
}

/** What a login gives. */
export interface LoginResult {
  user: PublicUser;
  tokens: Tokens;
}

/** Holds a user's tokens and keeps the access token fresh. Pass it to `new KilnClient({tokenManager})`. */
export class TokenManager implements AccessTokenSource {
  readonly #http: HttpClient;
  readonly #storage: TokenStorage | undefined;
  readonly #now: () => number;
  readonly #marginMs: number;
  #tokens: Tokens | undefined;
  #loading: Promise<void> | undefined;
  #refreshing: Promise<Tokens> | undefined;

  constructor(options: TokenManagerOptions) {
    this.#http = new HttpClient({
      baseUrl: options.baseUrl,
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
      ...(options.userAgent === undefined ? {} : { userAgent: options.userAgent }),
    });
    this.#storage = options.storage;
    this.#now = options.now ?? Date.now;
    this.#marginMs = options.refreshMarginMs ?? 60_000;
  }

  /** Signs in with a username and password; the new tokens replace any others and are saved. */
  async login(
    username: string,
    password: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<LoginResult> {
    await this.#load();
    const answer = await this.#http.json("POST", "/auth/login", LoginResponse, {
      body: { username, password },
      ...options,
    });
    const tokens: Tokens = {
      accessToken: answer.accessToken,
      refreshToken: answer.refreshToken,
      expiresAt: answer.expiresAt,
    };
    await this.setTokens(tokens);
    return { user: answer.user, tokens };
  }

  /**
   * A valid access token: the current one, or a new one when it expires within the refresh margin
   * (or is `rejectedToken`, which the server refused). Throws KilnLoginRequiredError without tokens.
   */
  async getAccessToken(options: { signal?: AbortSignal; rejectedToken?: string } = {}): Promise<string> {
    await abortable(this.#load(), options.signal);
    const tokens = this.#tokens;
    if (tokens === undefined) throw new KilnLoginRequiredError("not logged in");
    const stale = tokens.expiresAt - this.#marginMs <= this.#now();
    if (!stale && tokens.accessToken !== options.rejectedToken) return tokens.accessToken;
    return (await this.refresh(options)).accessToken;
  }

  /** Trades the refresh token for a new pair now; concurrent calls share one request. */
  refresh(options: { signal?: AbortSignal } = {}): Promise<Tokens> {
    // Not tied to one caller's signal: the others wait for the same refresh.
    this.#refreshing ??= this.#refreshNow().finally(() => {
      this.#refreshing = undefined;
    });
    return abortable(this.#refreshing, options.signal);
  }

  /** The tokens held now (loaded from storage on first use). */
  async getTokens(): Promise<Tokens | undefined> {
    await this.#load();
    return this.#tokens;
  }

  /** Replaces the tokens (`undefined` forgets them) and saves them. */
  async setTokens(tokens: Tokens | undefined): Promise<void> {
    this.#tokens = tokens;
    await this.#storage?.save(tokens);
  }

  /** Signs out: the server revokes the refresh token's family; the tokens are forgotten either way. */
  async logout(options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.#load();
    if (this.#tokens === undefined) return;
    try {
      const token = await this.getAccessToken(options);
      await this.#http.empty("POST", "/auth/logout", {
        headers: { authorization: `Bearer ${token}` },
        ...options,
      });
    } finally {
      await this.setTokens(undefined);
    }
  }

  async #refreshNow(): Promise<Tokens> {
    await this.#load();
    const current = this.#tokens;
    if (current === undefined) throw new KilnLoginRequiredError("not logged in");
    let next: Tokens;
    try {
      next = await this.#http.json("POST", "/auth/refresh", TokenPair, {
        body: { refreshToken: current.refreshToken },
      });
    } catch (error) {
      if (!(error instanceof KilnApiError && error.status === 401)) throw error;
      // Only forget what was refused: a login that finished meanwhile keeps its tokens.
      if (this.#tokens === current) await this.setTokens(undefined);
      throw new KilnLoginRequiredError(
        "the server refused the refresh token (it expired, was revoked, or was used twice)",
        error,
      );
    }
    await this.setTokens(next);
    return next;
  }

  #load(): Promise<void> {
    this.#loading ??= (async () => {
      const stored = await this.#storage?.load();
      // A login or setTokens that ran while loading wins over what was stored.
      if (this.#tokens === undefined) this.#tokens = stored;
    })().catch((error: unknown) => {
      // A storage that failed once (a locked file, a full disk) is tried again next time.
      this.#loading = undefined;
      throw error;
    });
    return this.#loading;
  }
}

/** `promise`, or the signal's reason as soon as it aborts (the work itself goes on for others). */
function abortable<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
