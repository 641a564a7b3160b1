// The settings page's calls against a real Kiln server on loopback: provider keys are stored and
// listed by name only, deleted (a 204 with no body), and refused with the server's reason; API tokens
// are shown once at creation, listed without the token, work as credentials, and stop working when
// revoked.
import { KilnApiError, KilnClient } from "@kiln/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN, type KilnUnderTest, startKilnUnderTest } from "../../../test/browser/kiln-under-test.ts";
import {
  createToken,
  deleteSecret,
  listSecrets,
  listTokens,
  putSecret,
  revokeToken,
} from "./settings-api.ts";

let server: KilnUnderTest;
let client: KilnClient;

beforeAll(async () => {
  server = await startKilnUnderTest();
  const login = await fetch(`${server.url}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(ADMIN),
  });
  const { accessToken } = (await login.json()) as { accessToken: string };
  client = new KilnClient({ baseUrl: server.url, token: accessToken });
});
afterAll(() => server?.close());

describe("provider keys", () => {
  it("stores a key, lists its name and time but never its value, and deletes it", async () => {
    const saved = await putSecret(client, "OPENAI_API_KEY", "sk-test-value");
    expect(saved).toEqual({ name: "OPENAI_API_KEY", updatedAt: expect.any(Number) });
    await putSecret(client, "ANTHROPIC_API_KEY", "sk-ant-value");
    const listed = await listSecrets(client);
    expect(listed.map((s) => s.name)).toEqual(["ANTHROPIC_API_KEY", "OPENAI_API_KEY"]);
    expect(JSON.stringify(listed)).not.toContain("value");
    await deleteSecret(client, "OPENAI_API_KEY");
    expect((await listSecrets(client)).map((s) => s.name)).toEqual(["ANTHROPIC_API_KEY"]);
  });

  it("passes the server's refusal on: deleting a key that does not exist", async () => {
    const refused = await deleteSecret(client, "NO_SUCH_KEY").catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(KilnApiError);
    expect((refused as KilnApiError).status).toBe(404);
    expect((refused as KilnApiError).message).toBe("you have no secret named NO_SUCH_KEY");
  });
});

describe("API tokens", () => {
  it("shows a new token once, lists it without the token, and revoking it locks it out", async () => {
    const created = await createToken(client, { name: "CI", scopes: ["read"], expiresInDays: 30 });
    expect(created).toMatchObject({ name: "CI", scopes: ["read"], token: expect.any(String) });
    const listed = await listTokens(client);
    const summary = listed.find((t) => t.id === created.id);
    expect(summary).toEqual({
      id: created.id,
      name: "CI",
      scopes: ["read"],
      createdAt: created.createdAt,
      expiresAt: created.expiresAt,
    });
    expect(JSON.stringify(listed)).not.toContain(created.token);

    const asToken = new KilnClient({ baseUrl: server.url, token: created.token });
    expect((await asToken.me()).user.via).toBe("api_token");
    await revokeToken(client, created.id);
    expect((await listTokens(client)).find((t) => t.id === created.id)?.revokedAt).toEqual(
      expect.any(Number),
    );
    const refused = await asToken.me().catch((e: unknown) => e);
    expect((refused as KilnApiError).status).toBe(401);
  });
});
