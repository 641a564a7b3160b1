// A whole Kiln server for tests (server-harness.ts) with two more knobs: the database (SQLite in the
// data dir, or a throwaway PostgreSQL database) and an auth clock that can be moved, so that a test
// can hold an access token that has expired.
import type { Scenario } from "@kiln/test-support";
import { startTestServer, type TestServer } from "./server-harness.ts";

/** A test server whose auth clock can be moved. */
export interface ServerFixture extends TestServer {
  /** Moves the auth clock by `ms` from the real time (0 puts it back). */
  setClockSkew(ms: number): void;
}

/** Options of {@link startServerFixture}. */
export interface ServerFixtureOptions {
  scenario?: Scenario;
  /** `sqlite` (default: a file in the data dir) or `postgres` (a new database on KILN_TEST_PG_URL). */
  database?: "sqlite" | "postgres";
}

/** Starts a server with the fake model playing `scenario`. */
export async function startServerFixture(options: ServerFixtureOptions = {}): Promise<ServerFixture> {
  let skew = 0;
  const server = await startTestServer({
    ...(options.scenario === undefined ? {} : { scenario: options.scenario }),
    ...(options.database === undefined ? {} : { database: options.database }),
    now: () => Date.now() + skew,
    relaxedLoginLimits: true,
  });
  return {
    ...server,
    setClockSkew(ms) {
      skew = ms;
    },
  };
}
