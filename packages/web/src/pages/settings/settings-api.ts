// The settings routes the SDK has no methods for yet (`/secrets`, `/tokens`), called through the
// client's generic `request` with the protocol's schemas. The list wrappers are built here because
// @kiln/protocol exports the item schemas only (the OpenAPI document builds the same wrappers).
import {
  ApiTokenSummary,
  type ApiTokenSummary as ApiTokenSummaryType,
  CreatedApiToken,
  type CreatedApiToken as CreatedApiTokenType,
  type KilnError,
  SecretSummary,
  type SecretSummary as SecretSummaryType,
} from "@kiln/protocol";
import { type KilnClient, KilnResponseError } from "@kiln/sdk";
import { z } from "zod";

const SecretList = z.object({ secrets: z.array(SecretSummary) });
const ApiTokenList = z.object({ tokens: z.array(ApiTokenSummary) });
const NoContent = z.unknown();

/** What a new personal API token may do. */
export type TokenScope = "read" | "write" | "admin";

/** The caller's secrets (names and update times, never values), by name. */
export async function listSecrets(client: KilnClient, signal?: AbortSignal): Promise<SecretSummaryType[]> {
  const { secrets } = await client.request(
    "GET",
    "/secrets",
    SecretList,
    signal === undefined ? {} : { signal },
  );
  return [...secrets].sort((a, b) => a.name.localeCompare(b.name));
}

/** Stores (or replaces) a secret; its value is never shown again. */
export function putSecret(client: KilnClient, name: string, value: string): Promise<SecretSummaryType> {
  return client.request("PUT", `/secrets/${encodeURIComponent(name)}`, SecretSummary, { body: { value } });
}

/** Deletes a secret. */
export function deleteSecret(client: KilnClient, name: string): Promise<void> {
  return requestNoContent(client, "DELETE", `/secrets/${encodeURIComponent(name)}`);
}

/** The caller's personal API tokens (never the tokens themselves), newest first. */
export async function listTokens(client: KilnClient, signal?: AbortSignal): Promise<ApiTokenSummaryType[]> {
  const { tokens } = await client.request(
    "GET",
    "/tokens",
    ApiTokenList,
    signal === undefined ? {} : { signal },
  );
  return [...tokens].sort((a, b) => b.createdAt - a.createdAt);
}

/** Creates a personal API token: the answer holds the token, shown this once. */
export function createToken(
  client: KilnClient,
  request: { name: string; scopes: TokenScope[]; expiresInDays?: number },
): Promise<CreatedApiTokenType> {
  return client.request("POST", "/tokens", CreatedApiToken, { body: request });
}

/** Revokes a personal API token (programs using it get 401 from now on). */
export function revokeToken(client: KilnClient, id: string): Promise<void> {
  return requestNoContent(client, "DELETE", `/tokens/${encodeURIComponent(id)}`);
}

/**
 * A request whose success is `204 No Content`. The SDK's generic `request` parses every answer as
 * JSON, so an empty 2xx body surfaces as a KilnResponseError "not JSON"; any error status is a
 * KilnApiError before that. Only that exact case counts as success here.
 */
async function requestNoContent(client: KilnClient, method: string, path: string): Promise<void> {
  try {
    await client.request(method, path, NoContent);
  } catch (error) {
    if (error instanceof KilnResponseError && isEmptyBodyError(error)) return;
    throw error;
  }
}

function isEmptyBodyError(error: KilnError): boolean {
  const problems = (error.details as { problems?: unknown } | undefined)?.problems;
  return Array.isArray(problems) && problems.length === 1 && problems[0] === "not JSON: ";
}
