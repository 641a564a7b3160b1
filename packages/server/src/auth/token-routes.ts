// /tokens: a user's personal API tokens. The token is in the creation response only; the store
// keeps its SHA-256. Everything is scoped to the caller: another user's token is a 404.
import {
  type ApiTokenSummary,
  CreateApiTokenRequest,
  type CreatedApiToken,
  KilnError,
  PathId,
} from "@kiln/protocol";
import type { ApiTokenInfo } from "@kiln/store";
import { Hono, type MiddlewareHandler } from "hono";
import type { AppEnv } from "./app-env.ts";
import { audit } from "./audit.ts";
import { type AuthCore, SETUP_SCOPE } from "./auth-core.ts";
import { respondToKilnErrors } from "./http-error.ts";
import { parseParam, readJsonBody } from "./json-body.ts";
import { hashToken, newAuthId, newOpaqueToken, TOKEN_PREFIX } from "./opaque-token.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

/** The /tokens routes. */
export function tokenRoutes(core: AuthCore, requireUser: MiddlewareHandler<AppEnv>): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.onError(respondToKilnErrors);

  app.get("/tokens", requireUser, async (c) => {
    const all = await core.store.apiTokens.listByUser(c.get("user").id);
    const tokens = all.filter((t) => !t.scopes.includes(SETUP_SCOPE)).map(summary);
    return c.json({ tokens });
  });

  app.post("/tokens", requireUser, async (c) => {
    const body = await readJsonBody(c, CreateApiTokenRequest);
    const caller = c.get("user");
    // A token never grants more than the credential that made it.
    const beyond = body.scopes.filter((s) => !caller.scopes.includes(s));
    if (beyond.length > 0) {
      throw new KilnError("forbidden", `you cannot grant scopes you do not have: ${beyond.join(", ")}`, {
        details: { field: "scopes" },
      });
    }
    const now = core.now();
    const token = newOpaqueToken(TOKEN_PREFIX.apiToken);
    const info = await core.store.apiTokens.create({
      id: newAuthId("tok"),
      userId: caller.id,
      name: body.name,
      tokenHash: hashToken(token),
      scopes: body.scopes,
      createdAt: now,
      ...(body.expiresInDays === undefined ? {} : { expiresAt: now + body.expiresInDays * DAY_MS }),
    });
    await audit(c, "token.create", info.id, { name: info.name, scopes: info.scopes });
    const response: CreatedApiToken = { ...summary(info), token };
    return c.json(response, 201);
  });

  app.delete("/tokens/:id", requireUser, async (c) => {
    const id = parseParam(PathId, c.req.param("id"), "id");
    const caller = c.get("user");
    if (!(await core.store.apiTokens.revoke(caller.id, id, core.now())))
      throw new KilnError("not_found", `no active API token ${id}`, { details: { field: "id" } });
    await audit(c, "token.revoke", id);
    return c.body(null, 204);
  });

  return app;
}

function summary(t: ApiTokenInfo): ApiTokenSummary {
  return {
    id: t.id,
    name: t.name,
    scopes: t.scopes,
    createdAt: t.createdAt,
    ...(t.lastUsedAt === undefined ? {} : { lastUsedAt: t.lastUsedAt }),
    ...(t.expiresAt === undefined ? {} : { expiresAt: t.expiresAt }),
    ...(t.revokedAt === undefined ? {} : { revokedAt: t.revokedAt }),
  };
}
