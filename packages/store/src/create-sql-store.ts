import type { KilnStore, KilnStoreRepos } from "./kiln-store.ts";
import { createApiTokenRepo } from "./repos/api-tokens.ts";
import { createAuditRepo } from "./repos/audit-log.ts";
import { createEnvironmentRepo } from "./repos/environments.ts";
import { createEventRepo } from "./repos/events.ts";
import { createRateLimitRepo } from "./repos/rate-limits.ts";
import { createRefreshTokenRepo } from "./repos/refresh-tokens.ts";
import { createRolloutRepo } from "./repos/rollout.ts";
import { createSandboxRepo } from "./repos/sandboxes.ts";
import { createSecretRepo } from "./repos/secrets.ts";
import { createSessionRepo } from "./repos/sessions.ts";
import { createTaskRepo } from "./repos/tasks.ts";
import { createThreadInputRepo } from "./repos/thread-inputs.ts";
import { createThreadRepo } from "./repos/threads.ts";
import { createTurnRepo } from "./repos/turns.ts";
import { createUsageRepo } from "./repos/usage.ts";
import { createUserRepo } from "./repos/users.ts";
import { createWorkspaceCheckpointRepo } from "./repos/workspace-checkpoints.ts";
import type { SqlDatabase, SqlExecutor } from "./sql/sql-database.ts";

/** The repositories over one executor (the database, or one transaction). */
function createRepos(db: SqlExecutor): KilnStoreRepos {
  return {
    users: createUserRepo(db),
    sessions: createSessionRepo(db),
    apiTokens: createApiTokenRepo(db),
    refreshTokens: createRefreshTokenRepo(db),
    threads: createThreadRepo(db),
    events: createEventRepo(db),
    rollout: createRolloutRepo(db),
    turns: createTurnRepo(db),
    secrets: createSecretRepo(db),
    usage: createUsageRepo(db),
    audit: createAuditRepo(db),
    rateLimits: createRateLimitRepo(db),
    environments: createEnvironmentRepo(db),
    tasks: createTaskRepo(db),
    sandboxes: createSandboxRepo(db),
    workspaceCheckpoints: createWorkspaceCheckpointRepo(db),
    threadInputs: createThreadInputRepo(db),
  };
}

/** A KilnStore over an open, migrated database. */
export function createSqlStore(db: SqlDatabase, schema: KilnStore["schema"]): KilnStore {
  return {
    ...createRepos(db),
    dialect: db.dialect,
    schema,
    transaction: (fn) => db.transaction((tx) => fn(createRepos(tx))),
    ping: async () => {
      await db.query("SELECT 1 AS one");
    },
    close: () => db.close(),
  };
}
