// One HTTP request to Kiln's native API: URL and headers (bearer token, user agent), the answer checked
// against the API's zod schema, errors turned into KilnApiError / KilnNetworkError. With a token
// manager, a 401 refreshes the access token once and tries again (the server's clock may be ahead).
// With a browser session, the cookie goes with the request and the CSRF token with unsafe methods.
import { ErrorInfo, type ErrorInfo as ErrorInfoType } from "@kiln/protocol";
import type { z } from "zod";
import { codeOfStatus, KilnApiError, KilnNetworkError, KilnResponseError } from "./errors.ts";

/** What gives the client an access token (a TokenManager does). */
export interface AccessTokenSource {
  /**
   * A valid access token. `rejectedToken`: the server refused this one (its clock may be ahead), so
   * give a new one unless it was already replaced.
   */
  getAccessToken(options?: { signal?: AbortSignal; rejectedToken?: string }): Promise<string>;
}

/**
 * A browser session's credentials (a BrowserSession): the cookie goes with `credentials`, the CSRF
 * token as `x-kiln-csrf` on unsafe methods, and a 401 is reported so that the page can ask to sign in.
 */
export interface SessionCredentials {
  /** The fetch `credentials` mode that sends the session cookie. */
  readonly credentials: FetchCredentials;
  /** The session's CSRF token, when known. */
  csrfHeader(): string | undefined;
  /** The server answered 401: the session has ended. */
  sessionRejected(): void;
}

/** fetch's `credentials` mode (spelled out: Node's types do not name it). */
export type FetchCredentials = "omit" | "same-origin" | "include";

/** The header that carries a browser session's CSRF token. */
export const CSRF_HEADER = "x-kiln-csrf";

const UNSAFE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** How the client reaches the server. */
export interface HttpClientOptions {
  /** The server's address, e.g. `https://kiln.example.com` (a trailing `/api/v1` is accepted too). */
  baseUrl: string;
  /** A personal API token or an access token, sent as `Authorization: Bearer`. */
  token?: string;
  /** Gives (and refreshes) access tokens; used instead of `token`. */
  tokenManager?: AccessTokenSource;
  /** A browser session (cookie + CSRF token); used when neither `token` nor `tokenManager` is. */
  session?: SessionCredentials;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
  /** Sent as `User-Agent` (browsers may drop it). */
  userAgent?: string;
}

/** Query parameters; `undefined` ones are left out. */
export type Query = Record<string, string | number | boolean | undefined>;

/** Options every API method takes. */
export interface CallOptions {
  /** Cancels the request (the method rejects with the signal's reason). */
  signal?: AbortSignal;
}

/** Options of one request. */
export interface RequestOptions {
  query?: Query;
  /** Sent as JSON. */
  body?: unknown;
  signal?: AbortSignal;
  /** Extra headers (e.g. `accept`). */
  headers?: Record<string, string>;
}

/** The server's root (without `/api/v1`), without a trailing slash. */
export function serverRoot(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, "").replace(/\/api\/v1$/, "");
}

/** Sends requests to `/api/v1` and checks the answers. */
export class HttpClient {
  readonly #root: string;
  readonly #options: HttpClientOptions;
  readonly #fetch: typeof fetch;

  constructor(options: HttpClientOptions) {
    this.#root = serverRoot(options.baseUrl);
    this.#options = options;
    // Called unbound: some browsers throw "Illegal invocation" when fetch is called as a method.
    const f = options.fetch ?? globalThis.fetch;
    this.#fetch = (input, init) => f(input, init);
  }

  /** The server's root URL. */
  get root(): string {
    return this.#root;
  }

  /** The full URL of an `/api/v1` path. */
  url(path: string, query?: Query): string {
    const url = `${this.#root}/api/v1${path}`;
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) params.set(key, String(value));
    }
    const search = params.toString();
    return search === "" ? url : `${url}?${search}`;
  }

  /** Sends a request; resolves with a 2xx response, throws KilnApiError for any other status. */
  async send(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const token = await this.#token(options.signal);
    const first = await this.#sendOnce(method, path, options, token);
    if (first.status === 401 && token === undefined) this.#options.session?.sessionRejected();
    if (first.status !== 401 || this.#options.tokenManager === undefined || token === undefined) {
      return this.#checked(first, method, path);
    }
    await first.body?.cancel();
    const renewed = await this.#token(options.signal, token);
    return this.#checked(await this.#sendOnce(method, path, options, renewed), method, path);
  }

  /** Sends a request and parses its JSON answer with `schema`. */
  async json<S extends z.ZodType>(
    method: string,
    path: string,
    schema: S,
    options: RequestOptions = {},
  ): Promise<z.output<S>> {
    const response = await this.send(method, path, options);
    const text = await this.#read(response, path, options.signal);
    return parseAnswer(schema, text, `${method} ${path}`);
  }

  /** Sends a request and resolves with its body as text. */
  async text(method: string, path: string, options: RequestOptions = {}): Promise<string> {
    const response = await this.send(method, path, options);
    return this.#read(response, path, options.signal);
  }

  /** Sends a request whose answer has no body (204). */
  async empty(method: string, path: string, options: RequestOptions = {}): Promise<void> {
    const response = await this.send(method, path, options);
    await response.body?.cancel();
  }

  async #sendOnce(method: string, path: string, o: RequestOptions, token?: string): Promise<Response> {
    const url = this.url(path, o.query);
    const headers: Record<string, string> = { accept: "application/json", ...o.headers };
    if (o.body !== undefined) headers["content-type"] = "application/json";
    if (this.#options.userAgent !== undefined) headers["user-agent"] = this.#options.userAgent;
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    const session = token === undefined ? this.#options.session : undefined;
    const csrf = session?.csrfHeader();
    if (csrf !== undefined && UNSAFE_METHODS.has(method.toUpperCase())) headers[CSRF_HEADER] = csrf;
    try {
      return await this.#fetch(url, {
        method,
        headers,
        ...(session === undefined ? {} : { credentials: session.credentials }),
        ...(o.body === undefined ? {} : { body: JSON.stringify(o.body) }),
        ...(o.signal === undefined ? {} : { signal: o.signal }),
      });
    } catch (error) {
      if (o.signal?.aborted) throw o.signal.reason;
      throw new KilnNetworkError(url, error);
    }
  }

  async #token(signal?: AbortSignal, rejectedToken?: string): Promise<string | undefined> {
    const manager = this.#options.tokenManager;
    if (manager === undefined) return this.#options.token;
    return manager.getAccessToken({
      ...(signal === undefined ? {} : { signal }),
      ...(rejectedToken === undefined ? {} : { rejectedToken }),
    });
  }

  async #checked(response: Response, method: string, path: string): Promise<Response> {
    if (response.ok) return response;
    const requestId = response.headers.get("x-request-id") ?? undefined;
    const text = await response.text().catch(() => "");
    throw new KilnApiError(
      response.status,
      errorInfoOf(response.status, text, `${method} ${path}`),
      requestId,
    );
  }

  async #read(response: Response, path: string, signal?: AbortSignal): Promise<string> {
    try {
      return await response.text();
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw new KilnNetworkError(this.url(path), error);
    }
  }
}

/** The ErrorInfo of an error answer; a body that is not Kiln's (a proxy's page) still gives one. */
export function errorInfoOf(status: number, text: string, what: string): ErrorInfoType {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const raw = (body as { error?: unknown } | undefined)?.error;
  const parsed = ErrorInfo.safeParse(raw);
  if (parsed.success) return parsed.data;
  const retryable = status >= 500 || status === 429 || status === 408;
  // A Kiln-shaped error with a code this SDK does not know yet: keep its message and code.
  const loose = raw as { code?: unknown; message?: unknown } | undefined;
  if (typeof loose?.message === "string") {
    return {
      code: codeOfStatus(status),
      message: loose.message,
      retryable,
      ...(typeof loose.code === "string" ? { details: { code: loose.code } } : {}),
    };
  }
  const snippet = text.trim().slice(0, 200);
  return {
    code: codeOfStatus(status),
    message: `${what} failed with HTTP ${status}${snippet === "" ? "" : `: ${snippet}`}`,
    retryable,
  };
}

/** Parses JSON text with `schema`; a mismatch is a KilnResponseError naming the fields. */
export function parseAnswer<S extends z.ZodType>(schema: S, text: string, what: string): z.output<S> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new KilnResponseError(what, [`not JSON: ${text.slice(0, 100)}`]);
  }
  return validate(schema, value, what);
}

/** Checks a value with `schema`; a mismatch is a KilnResponseError naming the fields. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues
    .slice(0, 5)
    .map((issue) => `${formatPath(issue.path)}: ${issue.message}`);
  throw new KilnResponseError(what, problems, result.error);
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "(body)";
  return path
    .map((key, i) => (typeof key === "number" ? `[${key}]` : `${i === 0 ? "" : "."}${String(key)}`))
    .join("");
}
