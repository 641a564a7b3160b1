// A web page's sign-in: the server's HttpOnly session cookie (set by `/auth/login` and `/auth/setup`,
// sent by the browser itself) plus the session's CSRF token, held in memory only and sent as
// `x-kiln-csrf` on unsafe requests. Nothing is written to localStorage: a script injected into the page
// finds no token to steal, and a reload gets the CSRF token back from `GET /auth/me` (`resume`).
// When the server answers 401 to any request of the session, listeners are told (to show sign-in).
import { LoginResponse, MeResponse, type PublicUser } from "@kiln/protocol";
import { KilnApiError } from "./errors.ts";
import {
  type CallOptions,
  type FetchCredentials,
  HttpClient,
  type SessionCredentials,
} from "./http-client.ts";

/** Options of a {@link BrowserSession}. */
export interface BrowserSessionOptions {
  /** The server's address; in a web page served by Kiln, `location.origin`. */
  baseUrl: string;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
  /** Which requests carry the cookie (default `same-origin`; `include` for an API on another origin). */
  credentials?: FetchCredentials;
}

/** The signed-in user, as `/auth/me` shows it. */
export type SessionUser = MeResponse["user"];

/** A browser session: pass it to `new KilnClient({ baseUrl, session })`. */
export class BrowserSession implements SessionCredentials {
  /** Which requests carry the cookie. */
  readonly credentials: FetchCredentials;
  readonly #http: HttpClient;
  readonly #listeners = new Set<() => void>();
  #csrf: string | undefined;

  constructor(options: BrowserSessionOptions) {
    this.credentials = options.credentials ?? "same-origin";
    // Its own requests (login, setup, me, logout) report 401s to the caller, not to the listeners:
    // a wrong password is not a session that ended.
    this.#http = new HttpClient({
      baseUrl: options.baseUrl,
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
      session: {
        credentials: this.credentials,
        csrfHeader: () => this.#csrf,
        sessionRejected: () => undefined,
      },
    });
  }

  /** Whether a CSRF token is held (signed in, as far as this page knows). */
  get signedIn(): boolean {
    return this.#csrf !== undefined;
  }

  /** The CSRF token for unsafe requests (see {@link SessionCredentials}). */
  csrfHeader(): string | undefined {
    return this.#csrf;
  }

  /** Called by the client when the server refused the session: forget it and tell the listeners. */
  sessionRejected(): void {
    this.#csrf = undefined;
    for (const listener of [...this.#listeners]) listener();
  }

  /** Calls `listener` whenever the server refuses the session (401); returns the unsubscribe function. */
  onExpired(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Signs in with a username and password: the server sets the cookie; the CSRF token is kept. */
  async login(username: string, password: string, options: CallOptions = {}): Promise<PublicUser> {
    const answer = await this.#http.json("POST", "/auth/login", LoginResponse, {
      body: { username, password },
      ...options,
    });
    this.#csrf = answer.csrfToken;
    return answer.user;
  }

  /** Finishes first-run setup with the setup link's token and a new password, and signs in. */
  async setup(token: string, password: string, options: CallOptions = {}): Promise<PublicUser> {
    const answer = await this.#http.json("POST", "/auth/setup", LoginResponse, {
      body: { token, password },
      ...options,
    });
    this.#csrf = answer.csrfToken;
    return answer.user;
  }

  /**
   * Picks up the session the cookie holds (after a page load): the user, with the CSRF token kept;
   * `undefined` when there is no valid session (sign in).
   */
  async resume(options: CallOptions = {}): Promise<SessionUser | undefined> {
    try {
      const me = await this.#http.json("GET", "/auth/me", MeResponse, options);
      this.#csrf = me.csrfToken;
      return me.user;
    } catch (error) {
      if (error instanceof KilnApiError && error.status === 401) {
        this.#csrf = undefined;
        return undefined;
      }
      throw error;
    }
  }

  /** Signs out: the server ends the session and clears the cookie; the CSRF token is forgotten. */
  async logout(options: CallOptions = {}): Promise<void> {
    try {
      await this.#http.empty("POST", "/auth/logout", options);
    } catch (error) {
      // Already signed out on the server: that is what was asked. Any other failure keeps the
      // session usable (the server still holds it).
      if (!(error instanceof KilnApiError && error.status === 401)) throw error;
    }
    this.#csrf = undefined;
  }
}
