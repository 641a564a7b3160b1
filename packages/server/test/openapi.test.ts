import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openApiDocument } from "../src/openapi/openapi-document.ts";
import { routeSpecs } from "../src/openapi/route-specs.ts";
import { startTestServer, type TestServer } from "./server-harness.ts";

const committed = fileURLToPath(new URL("../openapi.json", import.meta.url));

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});

describe("the OpenAPI document", () => {
  it("is committed exactly as generated (run `npm run -w @kiln/server openapi` after changing a route or schema)", async () => {
    const generated = `${JSON.stringify(openApiDocument(), null, 2)}\n`;
    expect(generated === (await readFile(committed, "utf8"))).toBe(true);
  });

  it("lists every route the server serves, and only those", () => {
    const served = t.server.app.routes
      .filter((r) => r.method !== "ALL")
      .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, "{$1}")}`);
    const documented = routeSpecs.map((r) => `${r.method} ${r.path}`);
    expect([...new Set(served)].sort()).toEqual([...new Set(documented)].sort());
  });

  it("is served at /api/v1/openapi.json without signing in", async () => {
    const response = await t.call(undefined, "GET", "/api/v1/openapi.json");
    expect(response.status).toBe(200);
    expect(response.body).toEqual(openApiDocument());
  });
});
