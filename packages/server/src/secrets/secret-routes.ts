// /secrets: a user manages their own secrets by name. Values go in (PUT) and never come out: the
// API lists names and update times only. Bodies are not echoed in errors either.

import { KilnError, PutSecretRequest, SecretName, type SecretSummary } from "@kiln/protocol";
import { Hono, type MiddlewareHandler } from "hono";
import { type AppEnv, audit, parseParam, readJsonBody, respondToKilnErrors } from "../auth/index.ts";
import type { UserSecrets } from "./user-secrets.ts";

/** Dependencies of {@link secretRoutes}. */
export interface SecretRoutesDeps {
  secrets: UserSecrets;
  /** `auth.requireUser` (applied here to every secret route, so no mount can expose them). */
  requireUser: MiddlewareHandler<AppEnv>;
}

/** The /secrets routes — mount at `/api/v1`. */
export function secretRoutes(deps: SecretRoutesDeps): Hono<AppEnv> {
  const { secrets, requireUser } = deps;
  const app = new Hono<AppEnv>();
  app.onError(respondToKilnErrors);

  app.get("/secrets", requireUser, async (c) => {
    const list: SecretSummary[] = await secrets.listSecrets(c.get("user").id);
    return c.json({ secrets: list });
  });

  app.put("/secrets/:name", requireUser, async (c) => {
    const name = parseParam(SecretName, c.req.param("name"), "name");
    const { value } = await readJsonBody(c, PutSecretRequest);
    const saved = await secrets.putSecret(c.get("user").id, name, value);
    await audit(c, "secret.put", name);
    return c.json(saved);
  });

  app.delete("/secrets/:name", requireUser, async (c) => {
    const name = parseParam(SecretName, c.req.param("name"), "name");
    if (!(await secrets.deleteSecret(c.get("user").id, name))) {
      throw new KilnError("not_found", `you have no secret named ${name}`, { details: { field: "name" } });
    }
    await audit(c, "secret.delete", name);
    return c.body(null, 204);
  });

  return app;
}
