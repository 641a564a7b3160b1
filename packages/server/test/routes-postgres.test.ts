// The HTTP route suites — threads, turns and approvals (threads.test.ts), rollback (rollback.test.ts),
// turns and events over SSE (sse.test.ts) and the WebSocket (ws.test.ts), bad input
// (bad-input.test.ts), ops (ops.test.ts), environments and tasks (tasks.test.ts) — run again against PostgreSQL when KILN_TEST_PG_URL is set.
// They build their server with server-harness.ts, which opens `{ sqlitePath }`: here `openStore`
// gives each of them a throwaway PostgreSQL database on the cluster instead, dropped when the store
// closes. Everything else (the server, auth, the executor, HTTP) is the same real code.
//
// TODO: once server-harness.ts takes the database as an option, loop over the two databases there
// and drop this redirection.
import type { KilnStore, OpenStoreOptions, StoreLocation } from "@kiln/store";
import { describe, expect, it, vi } from "vitest";
import { postgresAdminUrl, postgresSuiteTitle } from "./postgres-test-store.ts";

/** How many stores the suites opened, by dialect. */
const storesOpened = vi.hoisted(() => ({ postgres: 0, other: 0 }));

vi.mock("@kiln/store", async (importOriginal) => {
  // Inline (not postgres-test-store.ts): that module imports @kiln/store, which is being mocked here.
  const store = await importOriginal<typeof import("@kiln/store")>();
  return {
    ...store,
    async openStore(location: StoreLocation, options?: OpenStoreOptions): Promise<KilnStore> {
      if (typeof location === "string") {
        storesOpened.other++;
        return store.openStore(location, options);
      }
      storesOpened.postgres++;
      const db = await store.createPostgresTestDatabase(process.env.KILN_TEST_PG_URL ?? "");
      const opened = await store.openStore(db.url, options);
      return {
        ...opened,
        async close() {
          await opened.close();
          await db.drop();
        },
      };
    },
  };
});

for (const [name, load] of [
  ["threads, turns and approvals", () => import("./threads.test.ts")],
  ["rollback", () => import("./rollback.test.ts")],
  ["a turn and its SSE stream", () => import("./sse.test.ts")],
  ["the WebSocket", () => import("./ws.test.ts")],
  ["bad input", () => import("./bad-input.test.ts")],
  ["operational routes", () => import("./ops.test.ts")],
  ["environments and tasks", () => import("./tasks.test.ts")],
] as const) {
  describe.skipIf(postgresAdminUrl === undefined)(postgresSuiteTitle(name), async () => {
    await load();
  });
}

describe.skipIf(postgresAdminUrl === undefined)(postgresSuiteTitle("the route suites"), () => {
  it("opened every suite's store on PostgreSQL, and none elsewhere", () => {
    // Seven suites, and tasks.test.ts opens a second server (workspace roots).
    expect(storesOpened).toEqual({ postgres: 8, other: 0 });
  });
});
