// The entry point of the SDK: one object per server and identity, with the API's route groups as
// properties (`client.tasks`, `client.threads` …). It only uses fetch, AbortController and
// TextDecoder, so that it runs in browsers, Node 20+, Deno and Bun alike.
import { MeResponse } from "@kiln/protocol";
import type { z } from "zod";
import { ApprovalsApi } from "./approvals-api.ts";
import { EnvironmentsApi } from "./environments-api.ts";
import {
  type AccessTokenSource,
  type CallOptions,
  HttpClient,
  type RequestOptions,
  type SessionCredentials,
} from "./http-client.ts";
import { SandboxesApi } from "./sandboxes-api.ts";
import { TasksApi } from "./tasks-api.ts";
import { ThreadsApi } from "./threads-api.ts";
import { UsageApi } from "./usage-api.ts";

/** How a {@link KilnClient} reaches the server and who it is. */
export interface KilnClientOptions {
  /** The server's address, e.g. `https://kiln.example.com` (a trailing `/api/v1` is accepted too). */
  baseUrl: string;
  /** A personal API token (or an access token), sent as `Authorization: Bearer`. */
  token?: string;
  /** Gives (and refreshes) access tokens: a {@link TokenManager}. Used instead of `token`. */
  tokenManager?: AccessTokenSource;
  /**
   * A web page's session: a {@link BrowserSession} (the HttpOnly cookie + the CSRF token). Used when
   * neither `token` nor `tokenManager` is given.
   */
  session?: SessionCredentials;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
  /** Sent as `User-Agent` (browsers may drop it). */
  userAgent?: string;
}

/** Kiln's typed client. */
export class KilnClient {
  /** Tasks: create, follow, wait for, follow up, publish. */
  readonly tasks: TasksApi;
  /** Environments and their templates. */
  readonly environments: EnvironmentsApi;
  /** Threads: start one and run turns in it. */
  readonly threads: ThreadsApi;
  /** Pending approvals. */
  readonly approvals: ApprovalsApi;
  /** Model usage. */
  readonly usage: UsageApi;
  /** Task attempts' sandboxes: exec, files, status, terminal. */
  readonly sandboxes: SandboxesApi;
  readonly #http: HttpClient;

  constructor(options: KilnClientOptions) {
    this.#http = new HttpClient(options);
    this.tasks = new TasksApi(this.#http);
    this.environments = new EnvironmentsApi(this.#http);
    this.threads = new ThreadsApi(this.#http);
    this.approvals = new ApprovalsApi(this.#http);
    this.usage = new UsageApi(this.#http);
    this.sandboxes = new SandboxesApi(this.#http);
  }

  /** The server's root URL. */
  get baseUrl(): string {
    return this.#http.root;
  }

  /** Who the client is signed in as. */
  me(options: CallOptions = {}): Promise<MeResponse> {
    return this.#http.json("GET", "/auth/me", MeResponse, options);
  }

  /**
   * Calls any `/api/v1` route (for routes this SDK has no method for yet) and checks the answer with
   * `schema`, with the same auth and errors as the other methods.
   */
  request<S extends z.ZodType>(
    method: string,
    path: string,
    schema: S,
    options: RequestOptions = {},
  ): Promise<z.output<S>> {
    return this.#http.json(method, path, schema, options);
  }
}
