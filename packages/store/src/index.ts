export * from "./kiln-store.ts";
export { type Migration, migrations } from "./migrations/migration.ts";
export { type OpenStoreOptions, openStore, type StoreLocation } from "./open-store.ts";
export { secretScope } from "./repos/secrets.ts";
export { decodeTaskCursor, encodeTaskCursor, type TaskCursor } from "./repos/task-cursor.ts";
export { decodeThreadCursor, encodeThreadCursor, type ThreadCursor } from "./repos/thread-cursor.ts";
export { usernameKey } from "./repos/users.ts";
export { createPostgresTestDatabase, createSqliteTestDatabase, type TestDatabase } from "./test-database.ts";
