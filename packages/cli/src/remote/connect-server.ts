// Which server the remote commands talk to, and as whom: the server is `--server`, else KILN_SERVER,
// else the one saved by `kiln login`; the identity is what `kiln login` saved for that server (a token
// pair kept fresh by the SDK's TokenManager, whose refreshed tokens go back to the file, one process at
// a time (shared-token-source.ts), or an API token).
import { KilnError } from "@kiln/protocol";
import { KilnClient, TokenManager } from "@kiln/sdk";
import { credentialsPath, fileTokenStorage, readCredentials, tokensOf } from "./credentials-store.ts";
import { REFRESH_MARGIN_MS, sharedTokenSource } from "./shared-token-source.ts";

/** Sent as `User-Agent`. */
export const CLI_USER_AGENT = "kiln-cli/0.1.0";

/** No credentials for the server: the user has to run `kiln login` (exit 1 with that advice). */
export class NotLoggedInError extends KilnError {
  /** The server the command was for, when one is known. */
  readonly server: string | undefined;

  constructor(server: string | undefined) {
    super(
      "unauthorized",
      server === undefined
        ? "not logged in to a Kiln server: run `kiln login --server URL`"
        : `not logged in to ${server}: run \`kiln login --server ${server}\``,
    );
    this.name = "NotLoggedInError";
    this.server = server;
  }
}

/** A client for the chosen server, signed in with the saved credentials. */
export interface ServerConnection {
  client: KilnClient;
  server: string;
  /** How the client signs in (for error messages). */
  via: "tokens" | "api_token";
}

/** `raw` as a server root URL (no trailing slash or `/api/v1`); an actionable error if it is not one. */
export function normalizeServerUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new KilnError(
      "invalid_request",
      `"${raw}" is not a server URL: give one like https://kiln.example.com`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new KilnError(
      "invalid_request",
      `"${raw}" is not an http(s) URL: give one like https://kiln.example.com`,
    );
  }
  return url
    .toString()
    .replace(/\/+$/, "")
    .replace(/\/api\/v1$/, "");
}

/** The server to use: `--server`, else KILN_SERVER, else `saved` (normalized), or undefined. */
export function chooseServer(
  flag: string | undefined,
  env: Record<string, string | undefined>,
  saved: string | undefined,
): string | undefined {
  const raw = flag ?? (env.KILN_SERVER === "" ? undefined : env.KILN_SERVER) ?? saved;
  return raw === undefined ? undefined : normalizeServerUrl(raw);
}

/** Connects to the chosen server with the saved credentials; NotLoggedInError when there are none for it. */
export async function connectServer(
  env: Record<string, string | undefined>,
  serverFlag?: string,
): Promise<ServerConnection> {
  const path = credentialsPath(env);
  const saved = await readCredentials(path);
  const server = chooseServer(serverFlag, env, saved?.server);
  if (server === undefined) throw new NotLoggedInError(undefined);
  if (saved === undefined || normalizeServerUrl(saved.server) !== server) throw new NotLoggedInError(server);
  if ("token" in saved) {
    return {
      client: new KilnClient({ baseUrl: server, token: saved.token, userAgent: CLI_USER_AGENT }),
      server,
      via: "api_token",
    };
  }
  if (tokensOf(saved) === undefined) throw new NotLoggedInError(server);
  const storage = fileTokenStorage(path, saved.server);
  const manager = new TokenManager({
    baseUrl: server,
    storage,
    userAgent: CLI_USER_AGENT,
    refreshMarginMs: REFRESH_MARGIN_MS,
  });
  const tokenManager = sharedTokenSource(manager, storage, `${path}.lock`);
  return {
    client: new KilnClient({ baseUrl: server, tokenManager, userAgent: CLI_USER_AGENT }),
    server,
    via: "tokens",
  };
}
