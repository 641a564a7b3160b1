// /users (admin only): list, create, disable, reset a password. Disabling or a new password ends
// every browser session and refresh-token family of the account; its API tokens stop working
// because requireUser refuses disabled users.
import { CreateUserRequest, KilnError, PathId, type PublicUser, UpdateUserRequest } from "@kiln/protocol";
import { Hono, type MiddlewareHandler } from "hono";
import type { AppEnv } from "./app-env.ts";
import { audit } from "./audit.ts";
import { type AuthCore, publicUser } from "./auth-core.ts";
import { respondToKilnErrors } from "./http-error.ts";
import { parseParam, readJsonBody } from "./json-body.ts";
import { newAuthId } from "./opaque-token.ts";
import { hashPassword } from "./password.ts";
import { requireAdmin } from "./require-user.ts";

/** The /users routes. */
export function userRoutes(core: AuthCore, requireUser: MiddlewareHandler<AppEnv>): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.onError(respondToKilnErrors);

  app.get("/users", requireUser, requireAdmin, async (c) => {
    const users: PublicUser[] = (await core.store.users.list()).map(publicUser);
    return c.json({ users });
  });

  app.post("/users", requireUser, requireAdmin, async (c) => {
    const body = await readJsonBody(c, CreateUserRequest);
    const user = await core.store.users.create({
      id: newAuthId("usr"),
      username: body.username,
      role: body.role,
      passwordHash: await hashPassword(body.password),
      now: core.now(),
    });
    await audit(c, "user.create", user.id, { username: user.username, role: user.role });
    return c.json({ user: publicUser(user) }, 201);
  });

  app.patch("/users/:id", requireUser, requireAdmin, async (c) => {
    const id = parseParam(PathId, c.req.param("id"), "id");
    const body = await readJsonBody(c, UpdateUserRequest);
    const user = await core.store.users.get(id);
    if (user === undefined) throw new KilnError("not_found", `no user ${id}`, { details: { field: "id" } });
    if (body.disabled === true && id === c.get("user").id) {
      throw new KilnError("invalid_request", "you cannot disable your own account: ask another admin", {
        details: { field: "disabled" },
      });
    }
    const now = core.now();
    if (body.password !== undefined) {
      await core.store.users.setPasswordHash(id, await hashPassword(body.password), now);
      await endAllSignIns(core, id);
      await audit(c, "user.password_change", id, { by: "admin" });
    }
    if (body.disabled === true && user.disabledAt === undefined) {
      await core.store.users.disable(id, now);
      await endAllSignIns(core, id);
      await audit(c, "user.disable", id);
    }
    const updated = await core.store.users.get(id);
    if (updated === undefined)
      throw new KilnError("not_found", `no user ${id}`, { details: { field: "id" } });
    return c.json({ user: publicUser(updated) });
  });

  return app;
}

/** Ends every browser session and refresh-token family of a user. */
export async function endAllSignIns(core: AuthCore, userId: string): Promise<void> {
  await core.store.sessions.deleteAllOfUser(userId);
  await core.store.refreshTokens.revokeAllOfUser(userId, core.now());
}
