// How a checkpointing worker keeps a thread's workspace (workspace-sync.ts), on real files and a real
// SQLite store: a new thread's missing workspace is made empty, a worker that lacks the newest
// checkpoint restores it (and one that saved it does not), a thread's family in one directory shares
// one chain of checkpoints, and a file too large for a checkpoint is a warning naming it.
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

  async function newThread(cwd: string, parentThreadId?: string): Promise<ThreadInfo> {
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
    return info;
  }

  const worker = (options?: { maxFileBytes: number }) =>
    createCheckpointSync(createWorkspaceCheckpointer(store, options), store);

  it("makes a new thread's missing workspace, and restores the newest checkpoint only on a worker that lacks it", async () => {
    const cwd = join(root, "a", "work");
    const info = await newThread(cwd);
    const workerA = worker();
    const workerB = worker();
    const chain = await workerA.prepare(userId, info);
    expect(chain).toEqual({ userId, threadId: info.id });
    expect((await stat(cwd)).isDirectory()).toBe(true);

    await writeFile(join(cwd, "notes.txt"), "one\n");
    expect(await workerA.save(chain, cwd)).toBeUndefined();
    // A local change after the save, as a later step in flight would make.
    await writeFile(join(cwd, "notes.txt"), "one\ntwo\n");
    await workerA.prepare(userId, info);
    expect(await readFile(join(cwd, "notes.txt"), "utf8")).toBe("one\ntwo\n");
    // Another worker (or this one after a restart) goes back to the newest checkpoint.
    await workerB.prepare(userId, info);
    expect(await readFile(join(cwd, "notes.txt"), "utf8")).toBe("one\n");
  });

  it("gives a thread, its sub-agents and its forks in one directory one chain, so no restore puts back an older copy", async () => {
    const cwd = join(root, "family");
    const parent = await newThread(cwd);
    const child = await newThread(cwd, parent.id);
    const grandchild = await newThread(cwd, child.id);
    const elsewhere = await newThread(join(root, "elsewhere"), parent.id);
    const workerA = worker();
    expect(await workerA.prepare(userId, grandchild)).toEqual({ userId, threadId: parent.id });
    expect(await workerA.prepare(userId, elsewhere)).toEqual({ userId, threadId: elsewhere.id });

    // The parent saves on worker A, the child on worker B (from A's files), then the parent's next
    // attempt on A gets the child's newer files, not its own older checkpoint.
    await writeFile(join(cwd, "plan.md"), "the plan\n");
    await workerA.save(await workerA.prepare(userId, parent), cwd);
    const workerB = worker();
    await rm(cwd, { recursive: true, force: true });
    await workerB.prepare(userId, child);
    expect(await readFile(join(cwd, "plan.md"), "utf8")).toBe("the plan\n");
    await writeFile(join(cwd, "child.md"), "the child's work\n");
    await workerB.save(await workerB.prepare(userId, child), cwd);
    await rm(join(cwd, "child.md"));
    await workerA.prepare(userId, parent);
    expect(await readFile(join(cwd, "child.md"), "utf8")).toBe("the child's work\n");
  });

  it("makes no new checkpoint when a mutating step changed nothing", async () => {
    const cwd = join(root, "same");
    const info = await newThread(cwd);
    const sync = worker();
    const chain = await sync.prepare(userId, info);
    await writeFile(join(cwd, "a.txt"), "a\n");
    await sync.save(chain, cwd);
    const first = await store.workspaceCheckpoints.latest(chain);
    await sync.save(chain, cwd);
    expect((await store.workspaceCheckpoints.latest(chain))?.id).toBe(first?.id);
    await writeFile(join(cwd, "a.txt"), "b\n");
    await sync.save(chain, cwd);
    expect((await store.workspaceCheckpoints.latest(chain))?.id).not.toBe(first?.id);
  });

  it("says which files a checkpoint left out", async () => {
    const cwd = join(root, "big");
    const info = await newThread(cwd);
    const sync = worker({ maxFileBytes: 1024 });
    const chain = await sync.prepare(userId, info);
    await writeFile(join(cwd, "small.txt"), "ok\n");
    await writeFile(join(cwd, "big.bin"), Buffer.alloc(4096));
    expect(await sync.save(chain, cwd)).toMatch(/left out 1 file\(s\): big\.bin \(too large\)/);
  });
});
