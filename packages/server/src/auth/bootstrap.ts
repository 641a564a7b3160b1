// First run: with no users, create the admin — with KILN_ADMIN_PASSWORD as its password, or with
// none and a one-time setup link (24 h) for `kiln serve` to print. While the admin has still not set
// a password, each start prints a fresh link (the old ones are revoked), so a lost or expired link
// never locks the owner out. The setup token is stored hashed, as an API token with the setup scope.
import { KilnError, Username } from "@kiln/protocol";
import type { KilnStoreRepos, User } from "@kiln/store";
import { appendAudit } from "./audit.ts";
import { type AuthCore, SETUP_SCOPE, SETUP_TOKEN_TTL_MS } from "./auth-core.ts";
import { hashToken, newAuthId, newOpaqueToken, TOKEN_PREFIX } from "./opaque-token.ts";
import { hashPassword, NewPassword, NO_PASSWORD } from "./password.ts";

/** What first-run set-up read from the environment. */
export interface BootstrapEnv {
  KILN_ADMIN_USER?: string;
  KILN_ADMIN_PASSWORD?: string;
}

/** What bootstrap did: `created` the admin; `setupUrl` when the admin still needs a password. */
export interface BootstrapResult {
  created: boolean;
  setupUrl?: string;
}

/** Creates the first admin when there are no users (see the module comment). */
export async function bootstrap(
  core: AuthCore,
  env: BootstrapEnv,
  baseUrl: string,
): Promise<BootstrapResult> {
  const username =
    env.KILN_ADMIN_USER === undefined || env.KILN_ADMIN_USER === "" ? "admin" : env.KILN_ADMIN_USER;
  if (!Username.safeParse(username).success) {
    throw new KilnError(
      "config_invalid",
      `KILN_ADMIN_USER "${username}" is not a valid username: use 1–64 letters, digits, '.', '_', '-' or '@'`,
    );
  }
  const password = env.KILN_ADMIN_PASSWORD === "" ? undefined : env.KILN_ADMIN_PASSWORD;
  if (password !== undefined && !NewPassword.safeParse(password).success) {
    throw new KilnError(
      "config_invalid",
      "KILN_ADMIN_PASSWORD must be 8 to 1024 characters: choose a longer one",
    );
  }
  const passwordHash = password === undefined ? NO_PASSWORD : await hashPassword(password);
  const now = core.now();

  const outcome = await core.store.transaction(async (tx) => {
    if ((await tx.users.count()) > 0) return { created: undefined, pending: await pendingAdmin(tx) };
    const admin = await tx.users.create({ id: newAuthId("usr"), username, role: "admin", passwordHash, now });
    return { created: admin, pending: password === undefined ? admin : undefined };
  });
  if (outcome.created !== undefined) {
    await appendAudit(core.store, {
      userId: outcome.created.id,
      actor: "system",
      action: "user.create",
      at: now,
      details: { username, role: "admin", via: "bootstrap", setupLink: password === undefined },
    });
  }
  const created = outcome.created !== undefined;
  if (outcome.pending === undefined) return { created };
  const token = await newSetupToken(core, outcome.pending, now);
  return { created, setupUrl: `${baseUrl.replace(/\/+$/, "")}/setup#token=${token}` };
}

/** The only admin, when it has never set a password (first-run set-up not finished). */
async function pendingAdmin(tx: KilnStoreRepos): Promise<User | undefined> {
  const admins = (await tx.users.list()).filter((u) => u.role === "admin" && u.disabledAt === undefined);
  if (admins.length !== 1 || admins[0]?.passwordHash !== NO_PASSWORD) return undefined;
  return admins[0];
}

/** Revokes the admin's earlier setup tokens and stores a new one (hashed). */
async function newSetupToken(core: AuthCore, admin: User, now: number): Promise<string> {
  for (const old of await core.store.apiTokens.listByUser(admin.id)) {
    if (old.scopes.includes(SETUP_SCOPE) && old.revokedAt === undefined) {
      await core.store.apiTokens.revoke(admin.id, old.id, now);
    }
  }
  const token = newOpaqueToken(TOKEN_PREFIX.setupToken);
  await core.store.apiTokens.create({
    id: newAuthId("tok"),
    userId: admin.id,
    name: "first-run setup link",
    tokenHash: hashToken(token),
    scopes: [SETUP_SCOPE],
    createdAt: now,
    expiresAt: now + SETUP_TOKEN_TTL_MS,
  });
  return token;
}
