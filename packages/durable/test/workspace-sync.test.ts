// How a checkpointing worker keeps a thread's workspace (workspace-sync.ts), on real files and a real
// SQLite store: a new thread's missing workspace is made empty, a sub-agent's is seeded from its
// parent's newest checkpoint, a worker that lacks the newest checkpoint restores it (and one that
// saved it does not), and a file too large for a checkpoint is a warning naming it.
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCheckpointSync, createWorkspaceCheckpointer } from "@kiln/durable";
import { newId, type ThreadInfo } from "@kiln/protocol";
import { createSqliteTestDatabase, type KilnStore, openStore, type TestDatabase } from "@kiln/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

describe("workspaces checkpointed by workers", () => {
  let db: TestDatabase;
  let store: KilnStore;
  let root: string;
  const userId = "usr_sync";

  beforeAll(async () => {
    db = await createSqliteTestDatabase();
    store = await openStore(db.url);
    root = await mkdtemp(join(tmpdir(), "kiln-sync-"));
    await store.users.create({ id: userId, username: "sync", role: "user", passwordHash: "x", now: 1 });
  });
  afterAll(async () => {
    await store?.close();
    await db?.drop();
    await rm(root, { recursive: true, force: true });
  });

  async function newThread(cwd: string, parentThreadId?: string): Promise<string> {
    const info: ThreadInfo = {
      id: newId("thr"),
      createdAt: 1,
      cwd,
      model: "m",
      modelProvider: "openai",
      sandbox: "workspace-write",
      approvalPolicy: "never",
      mode: "code",
      additionalDirectories: [],
      ...(parentThreadId === undefined ? {} : { parentThreadId }),
    };
    await store.threads.create({ userId, info, title: "", status: "idle", now: 1 });
    return info.id;
  }

  it("makes a new thread's missing workspace, and restores the newest checkpoint only on a worker that lacks it", async () => {
    const cwd = join(root, "a", "work");
    const threadId = await newThread(cwd);
    const ref = { userId, threadId };
    const workerA = createCheckpointSync(createWorkspaceCheckpointer(store));
    const workerB = createCheckpointSync(createWorkspaceCheckpointer(store));
    await workerA.prepare(ref, cwd, undefined);
    expect((await stat(cwd)).isDirectory()).toBe(true);

    await writeFile(join(cwd, "notes.txt"), "one\n");
    expect(await workerA.save(ref, cwd)).toBeUndefined();
    // A local change after the save, as a later step in flight would make.
    await writeFile(join(cwd, "notes.txt"), "one\ntwo\n");
    await workerA.prepare(ref, cwd, undefined);
    expect(await readFile(join(cwd, "notes.txt"), "utf8")).toBe("one\ntwo\n");
    // Another worker (or this one after a restart) goes back to the newest checkpoint.
    await workerB.prepare(ref, cwd, undefined);
    expect(await readFile(join(cwd, "notes.txt"), "utf8")).toBe("one\n");
  });

  it("starts a sub-agent on a worker without the workspace from its parent's newest checkpoint", async () => {
    const parentCwd = join(root, "p");
    const parentId = await newThread(parentCwd);
    const sync = createCheckpointSync(createWorkspaceCheckpointer(store));
    await sync.prepare({ userId, threadId: parentId }, parentCwd, undefined);
    await writeFile(join(parentCwd, "plan.md"), "the plan\n");
    await sync.save({ userId, threadId: parentId }, parentCwd);

    await rm(parentCwd, { recursive: true, force: true });
    const childId = await newThread(parentCwd, parentId);
    await createCheckpointSync(createWorkspaceCheckpointer(store)).prepare(
      { userId, threadId: childId },
      parentCwd,
      parentId,
    );
    expect(await readFile(join(parentCwd, "plan.md"), "utf8")).toBe("the plan\n");
  });

  it("says which files a checkpoint left out", async () => {
    const cwd = join(root, "big");
    const threadId = await newThread(cwd);
    const sync = createCheckpointSync(createWorkspaceCheckpointer(store, { maxFileBytes: 1024 }));
    await sync.prepare({ userId, threadId }, cwd, undefined);
    await writeFile(join(cwd, "small.txt"), "ok\n");
    await writeFile(join(cwd, "big.bin"), Buffer.alloc(4096));
    expect(await sync.save({ userId, threadId }, cwd)).toMatch(
      /left out 1 file\(s\): big\.bin \(too large\)/,
    );
  });
});
