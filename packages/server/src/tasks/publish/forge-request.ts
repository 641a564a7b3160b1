// One call to a forge's REST API: auth headers of that forge, a timeout combined with the caller's
// signal, and every failure turned into a `publish_failed` a person can act on (never with the token).
import { assertNever, type ForgeKind, KilnError } from "@kiln/protocol";
import { redact } from "./redact.ts";

/** Where and as whom to call a forge. */
export interface ForgeTarget {
  kind: ForgeKind;
  /** REST API base, e.g. `https://api.github.com` or `https://gitlab.example.com/api/v4`. */
  apiUrl: string;
  /** `owner/name` (GitHub) or the project path `group/project` (GitLab). */
  repo: string;
  token: string;
}

/** How forge calls are made. */
export interface ForgeClient {
  forge: ForgeTarget;
  fetch: typeof fetch;
  /** Per request. */
  timeoutMs: number;
  signal?: AbortSignal;
}

/** A forge's name for people. */
export const FORGE_NAME: Record<ForgeKind, string> = { github: "GitHub", gitlab: "GitLab" };

const MAX_MESSAGE = 300;

/** Sends one JSON request and resolves with the parsed JSON answer; throws `publish_failed` on any failure. */
export async function forgeRequest(
  client: ForgeClient,
  method: "GET" | "POST" | "PATCH" | "PUT",
  path: string,
  body?: Record<string, unknown>,
): Promise<unknown> {
  const { forge } = client;
  const name = FORGE_NAME[forge.kind];
  const url = `${forge.apiUrl.replace(/\/+$/, "")}${path}`;
  const timeout = AbortSignal.timeout(client.timeoutMs);
  const signal = client.signal ? AbortSignal.any([client.signal, timeout]) : timeout;
  let response: Response;
  try {
    response = await client.fetch(url, {
      method,
      headers: { ...authHeaders(forge), ...(body ? { "Content-Type": "application/json" } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
      signal,
    });
  } catch (error) {
    if (client.signal?.aborted) throw client.signal.reason;
    const why = timeout.aborted
      ? `it did not answer within ${client.timeoutMs < 1000 ? `${client.timeoutMs} ms` : `${Math.round(client.timeoutMs / 1000)} s`}`
      : (error as Error).message;
    throw new KilnError(
      "publish_failed",
      redact(`could not reach ${name} at ${url}: ${why}`, [forge.token]),
      {
        retryable: true,
        cause: error,
      },
    );
  }
  const text = await response.text();
  if (!response.ok) throw httpError(forge, `${method} ${path}`, response, text);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new KilnError(
      "publish_failed",
      `${name} answered ${method} ${path} with something that is not JSON (HTTP ${response.status}): is ${forge.apiUrl} its REST API base?`,
    );
  }
}

function authHeaders(forge: ForgeTarget): Record<string, string> {
  switch (forge.kind) {
    case "github":
      return {
        Authorization: `Bearer ${forge.token}`,
        Accept: "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
        "User-Agent": "kiln",
      };
    case "gitlab":
      return { "PRIVATE-TOKEN": forge.token, Accept: "application/json", "User-Agent": "kiln" };
    default:
      return assertNever(forge.kind);
  }
}

function httpError(forge: ForgeTarget, call: string, response: Response, text: string): KilnError {
  const name = FORGE_NAME[forge.kind];
  const status = response.status;
  const said = redact(forgeMessage(text), [forge.token]);
  const answer = `HTTP ${status}${said ? `: ${said}` : ""}`;
  const details = { status, call };
  const rateLimited = status === 429 || response.headers.get("x-ratelimit-remaining") === "0";
  if (rateLimited) {
    return new KilnError(
      "publish_failed",
      `${name} is rate-limiting the token (${answer}): try again later.`,
      {
        details,
        retryable: true,
      },
    );
  }
  if (status === 401) {
    return new KilnError(
      "publish_failed",
      `${name} refused the token (${answer}): it is wrong, expired or revoked. Set a valid token as the environment's FORGE_TOKEN secret.`,
      { details },
    );
  }
  if (status === 403) {
    return new KilnError(
      "publish_failed",
      `${name} denied ${call} (${answer}): the token lacks permission to open pull requests in ${forge.repo}. Give it ${forge.kind === "github" ? '"Pull requests: read and write"' : 'the "api" scope and at least the Developer role'}.`,
      { details },
    );
  }
  if (status === 404) {
    return new KilnError(
      "publish_failed",
      `${name} has no repository ${forge.repo} at ${forge.apiUrl}, or the token cannot see it (${answer}). Check the environment's forge settings.`,
      { details },
    );
  }
  return new KilnError("publish_failed", `${name} rejected ${call} (${answer}).`, {
    details,
    retryable: status >= 500,
  });
}

/** The human part of a forge's error body: GitHub `{message, errors[]}`, GitLab `{message | error}`
 *  where `message` may be a string, a list, or an object of field → messages. Bounded. */
function forgeMessage(text: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return bound(text.trim());
  }
  const parts: string[] = [];
  const visit = (value: unknown, label?: string): void => {
    if (typeof value === "string") parts.push(label ? `${label} ${value}` : value);
    else if (Array.isArray(value)) for (const item of value) visit(item, label);
    else if (value !== null && typeof value === "object") {
      const record = value as Record<string, unknown>;
      if ("message" in record || "error" in record) visit(record.message ?? record.error, label);
      // GitHub's validation entries without a message: `{resource, field, code}`.
      else if (typeof record.code === "string")
        parts.push(`${record.field ?? record.resource ?? ""} ${record.code}`.trim());
      else for (const [key, inner] of Object.entries(record)) visit(inner, key);
    }
  };
  if (parsed !== null && typeof parsed === "object") {
    const body = parsed as Record<string, unknown>;
    visit(body.message ?? body.error);
    visit(body.errors);
  }
  return bound(parts.join("; "));
}

function bound(text: string): string {
  return text.length <= MAX_MESSAGE ? text : `${text.slice(0, MAX_MESSAGE)}…`;
}
