import { statSync } from "node:fs";
import { join } from "node:path";
import { KilnError } from "@kiln/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "./open-store.ts";
import { describeStoreContract } from "./store.contract.ts";
import { describeTaskStoreContract } from "./tasks.contract.ts";
import { createSqliteTestDatabase, type TestDatabase } from "./test-database.ts";
import { describeWorkspaceCheckpointContract } from "./workspace-checkpoints.contract.ts";

describeStoreContract("SQLite store", async () => createSqliteTestDatabase());
describeTaskStoreContract("SQLite task store", async () => createSqliteTestDatabase());
describeWorkspaceCheckpointContract("SQLite workspace checkpoints", async () => createSqliteTestDatabase());

describe("SQLite files", () => {
  const dirs: TestDatabase[] = [];
  const tempDir = () => {
    const db = createSqliteTestDatabase();
    dirs.push(db);
    return db.url.slice("sqlite:".length).replace(/kiln\.db$/, "");
  };
  afterAll(async () => {
    for (const db of dirs) await db.drop();
  });

  it("a new database file is created 0600 in a new 0700 directory, in WAL mode", async () => {
    const path = join(tempDir(), "data", "kiln.db");
    const store = await openStore(`sqlite:${path}`);
    await store.users.count();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(path, "..")).mode & 0o777).toBe(0o700);
    expect(statSync(`${path}-wal`).isFile()).toBe(true);
    await store.close();
  });

  it("sqlite:PATH, sqlite://PATH, a plain path and {sqlitePath} all open the same file", async () => {
    const path = join(tempDir(), "kiln.db");
    const first = await openStore(path);
    await first.users.create({ id: "usr_1", username: "one", role: "admin", passwordHash: "h", now: 1 });
    await first.close();
    for (const location of [`sqlite:${path}`, `sqlite://${path}`, { sqlitePath: path }]) {
      const store = await openStore(location);
      expect(store.schema.appliedAtOpen).toEqual([]);
      expect((await store.users.get("usr_1"))?.username).toBe("one");
      await store.close();
    }
  });

  it("a URL of another kind is config_invalid, without the password", async () => {
    const error = await openStore("mysql://root:hunter2@db/kiln").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KilnError);
    expect((error as KilnError).toInfo()).toEqual({
      code: "config_invalid",
      message:
        "unsupported database URL mysql://…@db/kiln: use sqlite:/path/kiln.db or postgres://user@host/db",
      retryable: false,
    });
  });
});
