import { describe } from "vitest";
import { describeStoreContract } from "./store.contract.ts";
import { describeTaskStoreContract } from "./tasks.contract.ts";
import { createPostgresTestDatabase } from "./test-database.ts";
import { describeWorkspaceCheckpointContract } from "./workspace-checkpoints.contract.ts";

// CI (.ci/run) starts a throwaway cluster and sets KILN_TEST_PG_URL; locally:
//   eval "$(scripts/pg-test-cluster.sh start)"; export KILN_TEST_PG_URL KILN_TEST_PG_DIR
const adminUrl = process.env.KILN_TEST_PG_URL;

describe.skipIf(adminUrl === undefined)(
  adminUrl === undefined
    ? "PostgreSQL store — SKIPPED: KILN_TEST_PG_URL is not set (start a cluster with scripts/pg-test-cluster.sh start)"
    : "on KILN_TEST_PG_URL",
  () => {
    describeStoreContract("PostgreSQL store", () => createPostgresTestDatabase(adminUrl ?? ""));
    describeTaskStoreContract("PostgreSQL task store", () => createPostgresTestDatabase(adminUrl ?? ""));
    describeWorkspaceCheckpointContract("PostgreSQL workspace checkpoints", () =>
      createPostgresTestDatabase(adminUrl ?? ""),
    );
  },
);
