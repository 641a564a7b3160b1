// `client.sandboxes`: a task attempt's sandbox (a workspace plus the policy its commands run under):
// run a command, read and write files, see its state, mint a capability token for it, and the URL of
// its terminal WebSocket. A sandbox id may also be given as a task id (that task's first attempt).
import {
  KilnError,
  SandboxDirectoryListing as SandboxDirectoryListingSchema,
  type SandboxExecRequest,
  SandboxExecResult,
  SandboxFileContent as SandboxFileContentSchema,
  SandboxFileEntry as SandboxFileEntrySchema,
  SandboxResource,
  SandboxStatus,
  SandboxTokenResponse,
} from "@kiln/protocol";
import { z } from "zod";
import type { SandboxDirectoryListing, SandboxFileContent, SandboxFileEntry } from "./api-types.ts";
import type { CallOptions, HttpClient } from "./http-client.ts";

const FileOrDirectory = z.discriminatedUnion("type", [
  SandboxDirectoryListingSchema,
  SandboxFileContentSchema,
]);
const enc = encodeURIComponent;

/** Files of a sandbox's workspace (paths are relative to it; escapes are refused by the server). */
export class SandboxFilesApi {
  readonly #http: HttpClient;

  constructor(http: HttpClient) {
    this.#http = http;
  }

  /** The entries of a directory (default: the workspace root). */
  async list(id: string, path = "", options: CallOptions = {}): Promise<SandboxDirectoryListing> {
    const found = await this.#get(id, path, options);
    if (found.type === "directory") return found;
    throw new KilnError("invalid_request", `${path} is a file, not a directory: read it with files.read`);
  }

  /** A file's content. */
  async read(id: string, path: string, options: CallOptions = {}): Promise<SandboxFileContent> {
    const found = await this.#get(id, path, options);
    if (found.type === "file") return found;
    throw new KilnError("invalid_request", `${path} is a directory, not a file: list it with files.list`);
  }

  /** Writes a file (folders are created as needed); `encoding: "base64"` for bytes. */
  write(
    id: string,
    path: string,
    content: string,
    options: CallOptions & { encoding?: "utf-8" | "base64" } = {},
  ): Promise<SandboxFileEntry> {
    return this.#http.json("PUT", `/sandboxes/${enc(id)}/files`, SandboxFileEntrySchema, {
      query: { path },
      body: { content, encoding: options.encoding ?? "utf-8" },
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  }

  #get(id: string, path: string, options: CallOptions) {
    return this.#http.json("GET", `/sandboxes/${enc(id)}/files`, FileOrDirectory, {
      query: { path },
      ...options,
    });
  }
}

/** The sandbox routes. */
export class SandboxesApi {
  readonly #http: HttpClient;
  /** The workspace's files. */
  readonly files: SandboxFilesApi;

  constructor(http: HttpClient) {
    this.#http = http;
    this.files = new SandboxFilesApi(http);
  }

  /** A sandbox: its workspace, state and network policy. */
  get(id: string, options: CallOptions = {}): Promise<SandboxResource> {
    return this.#http.json("GET", `/sandboxes/${enc(id)}`, SandboxResource, options);
  }

  /** Its state and resource use now. */
  status(id: string, options: CallOptions = {}): Promise<SandboxStatus> {
    return this.#http.json("GET", `/sandboxes/${enc(id)}/status`, SandboxStatus, options);
  }

  /** Runs a command in the sandbox and resolves with its exit code and output (a stopped sandbox starts). */
  exec(id: string, request: SandboxExecRequest, options: CallOptions = {}): Promise<SandboxExecResult> {
    return this.#http.json("POST", `/sandboxes/${enc(id)}/exec`, SandboxExecResult, {
      body: request,
      ...options,
    });
  }

  /** Stops the sandbox's processes now (the workspace is kept; any exec starts it again). */
  stop(id: string, options: CallOptions = {}): Promise<SandboxResource> {
    return this.#http.json("POST", `/sandboxes/${enc(id)}/stop`, SandboxResource, options);
  }

  /** A capability token (24 h) that works for this sandbox's routes only: safe to hand to a browser. */
  createToken(id: string, options: CallOptions = {}): Promise<SandboxTokenResponse> {
    return this.#http.json("POST", `/sandboxes/${enc(id)}/tokens`, SandboxTokenResponse, options);
  }

  /**
   * The terminal WebSocket's URL (`ws:` or `wss:` as the server's address is `http:` or `https:`),
   * with `?token=` because browsers cannot send headers on a WebSocket. Without `token`, a new
   * capability token for this sandbox is minted: a URL may end up in logs, and that token opens
   * nothing but this sandbox.
   */
  async terminalUrl(id: string, options: CallOptions & { token?: string } = {}): Promise<string> {
    const token = options.token ?? (await this.createToken(id, options)).token;
    const url = new URL(this.#http.url(`/sandboxes/${enc(id)}/terminal`));
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("token", token);
    return url.toString();
  }
}
