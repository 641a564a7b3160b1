// How git authenticates to an https repository with a forge token: an `Authorization: Basic` header
// given as config through the environment (see runGit), never in the URL, a config file or argv.
// The header is scoped to the repository's origin, so a redirect elsewhere does not receive it.
import type { ForgeKind } from "@kiln/protocol";

/** A forge token for git over HTTP(S). */
export interface GitToken {
  kind: ForgeKind;
  /** The forge's REST API base: the token is only sent to a repository on the same host. */
  apiUrl: string;
  token: string;
}

/** The user names the forges expect with a token as the password over git HTTP. */
const TOKEN_USER: Record<ForgeKind, string> = { github: "x-access-token", gitlab: "oauth2" };

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * Config pairs that make git send the token to `repository`: none for a local path, ssh, a URL that
 * carries its own credentials, or a host other than the forge's (`github.com` for `api.github.com`);
 * for plain `http://` only on loopback (a token must not cross a network in clear text).
 */
export function gitAuthConfig(repository: string, auth: GitToken | undefined): Array<[string, string]> {
  if (auth === undefined) return [];
  const url = parseUrl(repository);
  if (url === undefined || url.username !== "" || url.password !== "") return [];
  const secure = url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK.has(url.hostname));
  if (!secure || !sameForge(url.hostname, parseUrl(auth.apiUrl)?.hostname)) return [];
  const basic = Buffer.from(`${TOKEN_USER[auth.kind]}:${auth.token}`).toString("base64");
  return [[`http.${url.protocol}//${url.host}/.extraHeader`, `Authorization: Basic ${basic}`]];
}

function sameForge(repoHost: string, apiHost: string | undefined): boolean {
  return apiHost !== undefined && (apiHost === repoHost || apiHost === `api.${repoHost}`);
}

function parseUrl(repository: string): URL | undefined {
  try {
    return new URL(repository);
  } catch {
    return undefined;
  }
}
