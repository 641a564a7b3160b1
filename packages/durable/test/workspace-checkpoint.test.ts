// Workspace checkpoints on real files and a real store (SQLite; PostgreSQL too when KILN_TEST_PG_URL
// is set): a git workspace saved and restored is the same tree, a re-save reads and uploads only what
// changed, a restore writes only what differs, and neither a hostile manifest nor a hostile tree makes
// a restore write or delete outside its directory.
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  symlink,
  utimes,
  writeFile,
} from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import { createWorkspaceCheckpointer } from "@kiln/durable";
import { type KilnError, newId } from "@kiln/protocol";
import {
  createPostgresTestDatabase,
  createSqliteTestDatabase,
  type KilnStore,
  openStore,
  type TestDatabase,
  type WorkspaceManifestEntry,
} from "@kiln/store";
import { createTempGitRepo } from "@kiln/test-support";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

const T0 = Date.UTC(2026, 0, 15, 10);
const pgUrl = process.env.KILN_TEST_PG_URL || undefined;
const databases: Array<[string, () => Promise<TestDatabase>]> = [
  ["SQLite", async () => createSqliteTestDatabase()],
  ...(pgUrl === undefined
    ? []
    : [["PostgreSQL", () => createPostgresTestDatabase(pgUrl)] as [string, () => Promise<TestDatabase>]]),
];

const sha = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

/** Every entry under `dir` with its type, mode, link target or content hash (links never followed). */
async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await readdir(join(dir, rel))).sort()) {
      const path = rel === "" ? name : `${rel}/${name}`;
      const full = join(dir, path);
      const stat = await lstat(full);
      const mode = (stat.mode & 0o777).toString(8);
      if (stat.isSymbolicLink()) out.push(`link ${path} -> ${await readlink(full)}`);
      else if (stat.isDirectory()) {
        out.push(`dir ${path} ${mode}`);
        await walk(path);
      } else out.push(`file ${path} ${mode} ${sha(await readFile(full))}`);
    }
  };
  await walk("");
  return out;
}

/** Moves every mtime under `dir` an hour back, as for files not touched just now. */
async function ageTree(dir: string): Promise<void> {
  const past = new Date(Date.now() - 3_600_000);
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) await utimes(join(entry.parentPath, entry.name), past, past);
  }
}

describe.each(databases)("workspace checkpoints on %s", (_name, newDatabase) => {
  let database: TestDatabase;
  let store: KilnStore;
  const temps: string[] = [];
  beforeAll(async () => {
    database = await newDatabase();
    store = await openStore(database.url);
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });
  afterEach(async () => {
    for (const dir of temps.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  const tempDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), "kiln-ckpt-"));
    temps.push(dir);
    return dir;
  };
  const newThread = async () => {
    const userId = `usr_${randomBytes(8).toString("hex")}`;
    await store.users.create({ id: userId, username: userId, role: "user", passwordHash: "h", now: T0 });
    const threadId = newId("thr", T0);
    await store.threads.create({
      userId,
      info: {
        id: threadId,
        createdAt: T0,
        cwd: "/w",
        model: "m",
        modelProvider: "openai",
        sandbox: "workspace-write",
        approvalPolicy: "never",
        mode: "code",
        additionalDirectories: [],
      },
      title: "t",
      status: "idle",
      now: T0,
    });
    return { userId, threadId };
  };
  /** A git workspace with an executable script, links, an empty directory and a binary file. */
  const gitWorkspace = async () => {
    const repo = await createTempGitRepo({
      "README.md": "# demo\n",
      "src/index.js": "console.log('hello');\n",
      "scripts/build.sh": "#!/bin/sh\necho built\n",
    });
    temps.push(repo.dir);
    await chmod(join(repo.dir, "scripts/build.sh"), 0o755);
    await symlink("src/index.js", join(repo.dir, "main.js"));
    await symlink("/etc", join(repo.dir, "system"));
    await mkdir(join(repo.dir, "empty/nested"), { recursive: true });
    await mkdir(join(repo.dir, "assets"));
    await writeFile(join(repo.dir, "assets/logo.bin"), Buffer.concat([Buffer.alloc(300), randomBytes(5000)]));
    await repo.git("add", "-A");
    await repo.git("commit", "-q", "-m", "more");
    await writeFile(join(repo.dir, "untracked.txt"), "not committed\n");
    return repo;
  };

  it("a git workspace saved and restored into a new directory is the same tree, .git included", async () => {
    const ref = await newThread();
    const repo = await gitWorkspace();
    const checkpointer = createWorkspaceCheckpointer(store, { now: () => T0 });
    const before = await listTree(repo.dir);
    const files = before.filter((l) => l.startsWith("file ")).length;

    const saved = await checkpointer.save(ref, repo.dir);
    expect(saved).toMatchObject({
      threadId: ref.threadId,
      createdAt: T0,
      files,
      skipped: [],
      hashedFiles: files,
    });
    expect(saved.uploaded.blobs).toBeGreaterThan(0);
    expect(await checkpointer.latest(ref)).toEqual({
      id: saved.id,
      threadId: ref.threadId,
      createdAt: T0,
      files,
      bytes: saved.bytes,
    });

    const target = join(await tempDir(), "restored");
    const restored = await checkpointer.restore(ref, saved.id, target);
    expect(restored).toEqual({
      checkpointId: saved.id,
      written: files + 2,
      unchanged: 0,
      deleted: 0,
      bytesWritten: saved.bytes,
    });
    expect(await listTree(target)).toEqual(before);
    expect(execFileSync("git", ["status", "--porcelain"], { cwd: target, encoding: "utf8" })).toBe(
      "?? untracked.txt\n",
    );
    expect(execFileSync("git", ["log", "--format=%s"], { cwd: target, encoding: "utf8" })).toBe(
      "more\ninitial commit\n",
    );
  });

  it("a second save after one change hashes and uploads only the changed file", async () => {
    const ref = await newThread();
    const repo = await gitWorkspace();
    await ageTree(repo.dir);
    const checkpointer = createWorkspaceCheckpointer(store);
    const first = await checkpointer.save(ref, repo.dir);
    await writeFile(join(repo.dir, "src/index.js"), "console.log('changed');\n");

    const second = await checkpointer.save(ref, repo.dir);
    expect({ hashed: second.hashedFiles, uploaded: second.uploaded.blobs, files: second.files }).toEqual({
      hashed: 1,
      uploaded: 1,
      files: first.files,
    });
    expect((await checkpointer.latest(ref))?.id).toBe(second.id);
    const stored = await store.workspaceCheckpoints.get({ userId: ref.userId, id: second.id });
    expect(stored?.manifest.find((e) => e.path === "src/index.js")).toEqual({
      type: "file",
      path: "src/index.js",
      mode: 0o644,
      sha256: sha("console.log('changed');\n"),
      size: 24,
    });
  });

  it("a restore onto a changed directory writes only what differs, deletes the rest, and a second restore does nothing", async () => {
    const ref = await newThread();
    const repo = await gitWorkspace();
    const checkpointer = createWorkspaceCheckpointer(store);
    const saved = await checkpointer.save(ref, repo.dir);
    const expected = await listTree(repo.dir);
    const files = expected.filter((l) => l.startsWith("file ")).length;

    await writeFile(join(repo.dir, "README.md"), "# edited\n"); // differs
    await rm(join(repo.dir, "src/index.js")); // missing
    await chmod(join(repo.dir, "scripts/build.sh"), 0o644); // mode only
    await rm(join(repo.dir, "main.js"));
    await symlink("README.md", join(repo.dir, "main.js")); // retargeted link
    await rm(join(repo.dir, "assets"), { recursive: true });
    await mkdir(join(repo.dir, "assets/logo.bin"), { recursive: true }); // a directory where a file was
    await writeFile(join(repo.dir, "assets/logo.bin/inner.txt"), "x");
    await mkdir(join(repo.dir, "build/out"), { recursive: true }); // extra tree
    await writeFile(join(repo.dir, "build/out/app.js"), "x");

    const restored = await checkpointer.restore(ref, saved.id, repo.dir);
    // written: README, index.js, logo.bin, the link; deleted: logo.bin/ + inner.txt, build/ + out/ + app.js.
    expect(restored).toEqual({
      checkpointId: saved.id,
      written: 4,
      unchanged: files - 3 + 1,
      deleted: 5,
      bytesWritten: 7 + 22 + 5300,
    });
    expect(await listTree(repo.dir)).toEqual(expected);
    expect(await checkpointer.restore(ref, saved.id, repo.dir)).toEqual({
      checkpointId: saved.id,
      written: 0,
      unchanged: files + 2,
      deleted: 0,
      bytesWritten: 0,
    });
  });

  it("a manifest with `..`, absolute or empty segments, or an entry under a link or a file, is refused and nothing is touched", async () => {
    const ref = await newThread();
    const content = Buffer.from("payload");
    const blob = {
      sha256: sha(content),
      size: content.byteLength,
      data: new Uint8Array(deflateSync(content)),
    };
    await store.workspaceCheckpoints.putBlobs(ref.userId, [blob]);
    const file = (path: string): WorkspaceManifestEntry => ({
      type: "file",
      path,
      mode: 0o644,
      sha256: blob.sha256,
      size: blob.size,
    });
    const outside = await tempDir();
    const target = await tempDir();
    await writeFile(join(target, "keep.txt"), "mine");
    const plain = "is not a plain relative path (absolute, `..`, `.` or empty segments)";
    const dir = (path: string): WorkspaceManifestEntry => ({ type: "dir", path, mode: 0o755 });
    const hostile: Array<[WorkspaceManifestEntry[], string, string]> = [
      [[file("../escaped")], "../escaped", plain],
      [[file(`${outside}/abs`)], `${outside}/abs`, plain],
      [[dir("a"), file("a//b")], "a//b", plain],
      [[file("./x")], "./x", plain],
      [[{ type: "symlink", path: "a", target: outside }, file("a/x")], "a/x", "is inside a symlink"],
      [[file("f"), file("f/x")], "f/x", "is inside a file"],
      [[file("nowhere/x")], "nowhere/x", "has no parent directory in it"],
      [[file("twice"), file("twice")], "twice", "appears twice"],
    ];
    for (const [manifest, path, why] of hostile) {
      const made = await store.workspaceCheckpoints.create({
        id: newId("ckpt"),
        ...ref,
        createdAt: T0,
        manifest,
      });
      const error = await createWorkspaceCheckpointer(store)
        .restore(ref, made.id, target)
        .catch((e: unknown) => e);
      expect((error as KilnError).toInfo()).toEqual({
        code: "path_escape",
        message: `workspace checkpoint ${made.id} has an entry "${path}" that ${why}; nothing was restored`,
        retryable: false,
      });
    }
    expect(await listTree(target)).toEqual([`file keep.txt 644 ${sha("mine")}`]);
    expect(await listTree(outside)).toEqual([]);
  });

  it("links in the restored directory are replaced or removed, never written or deleted through", async () => {
    const ref = await newThread();
    const source = await tempDir();
    await mkdir(join(source, "a"));
    await writeFile(join(source, "a/x"), "inside a\n");
    await writeFile(join(source, "f"), "a real file\n");
    await symlink("/etc/passwd", join(source, "link-out")); // saved as a link, never read
    const checkpointer = createWorkspaceCheckpointer(store);
    const saved = await checkpointer.save(ref, source);
    const stored = await store.workspaceCheckpoints.get({ userId: ref.userId, id: saved.id });
    expect(stored?.manifest.map((e) => `${e.type} ${e.path}`)).toEqual([
      "dir a",
      "file a/x",
      "file f",
      "symlink link-out",
    ]);

    const outside = await tempDir();
    await writeFile(join(outside, "secret.txt"), "do not touch\n");
    await mkdir(join(outside, "sub"));
    await writeFile(join(outside, "sub/data"), "keep\n");
    const outsideBefore = await listTree(outside);
    const target = await tempDir();
    await symlink(outside, join(target, "a")); // a dir of the checkpoint is a link here
    await symlink(join(outside, "secret.txt"), join(target, "f")); // a file of the checkpoint is a link
    await symlink(outside, join(target, "gone")); // not in the checkpoint: deleted as a link

    const restored = await checkpointer.restore(ref, saved.id, target);
    expect(restored).toMatchObject({ written: 3, deleted: 2, unchanged: 0 });
    expect(await listTree(target)).toEqual(await listTree(source));
    expect(await listTree(outside)).toEqual(outsideBefore);
  });

  it("files over maxFileBytes, fifos and sockets are left out and reported", async () => {
    const ref = await newThread();
    const dir = await tempDir();
    await writeFile(join(dir, "small.txt"), "ok");
    await writeFile(join(dir, "big.bin"), randomBytes(2048));
    execFileSync("mkfifo", [join(dir, "pipe")]);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(join(dir, "sock"), resolve));
    try {
      const saved = await createWorkspaceCheckpointer(store, { maxFileBytes: 1024 }).save(ref, dir);
      expect({ files: saved.files, bytes: saved.bytes, skipped: saved.skipped }).toEqual({
        files: 1,
        bytes: 2,
        skipped: [
          { path: "big.bin", reason: "too_large" },
          { path: "pipe", reason: "special_file" },
          { path: "sock", reason: "special_file" },
        ],
      });
    } finally {
      server.close();
    }
  });

  it("a workspace over maxTotalBytes is refused with an error that says what to do, and nothing is stored", async () => {
    const ref = await newThread();
    const dir = await tempDir();
    await writeFile(join(dir, "a"), randomBytes(600));
    await writeFile(join(dir, "b"), randomBytes(600));
    const error = await createWorkspaceCheckpointer(store, { maxTotalBytes: 1000 })
      .save(ref, dir)
      .catch((e: unknown) => e);
    expect((error as KilnError).toInfo()).toEqual({
      code: "payload_too_large",
      message:
        `the workspace ${dir} holds more than 1000 bytes of files, the checkpoint limit: delete build outputs and ` +
        "caches it does not need (or add them to a separate volume), or raise maxTotalBytes",
      retryable: false,
      details: { limit: 1000 },
    });
    expect(await createWorkspaceCheckpointer(store).latest(ref)).toBeUndefined();
  });

  it("only the newest `keep` checkpoints are kept; an older one, another thread's or another user's is not found", async () => {
    const ref = await newThread();
    const other = await newThread();
    const dir = await tempDir();
    const checkpointer = createWorkspaceCheckpointer(store, { keep: 2 });
    const saves = [];
    for (const text of ["one", "two", "three"]) {
      await writeFile(join(dir, "file.txt"), text);
      saves.push(await checkpointer.save(ref, dir));
    }
    expect(saves.map((s) => s.pruned)).toEqual([
      { checkpoints: 0, blobs: 0 },
      { checkpoints: 0, blobs: 0 },
      { checkpoints: 1, blobs: 1 },
    ]);
    const target = await tempDir();
    for (const [who, id] of [
      [ref, saves[0]?.id],
      [{ userId: ref.userId, threadId: other.threadId }, saves[2]?.id],
      [{ userId: other.userId, threadId: ref.threadId }, saves[2]?.id],
    ] as const) {
      const error = await checkpointer.restore(who, id ?? "", target).catch((e: unknown) => e);
      expect((error as KilnError).toInfo()).toEqual({
        code: "not_found",
        message: `thread ${who.threadId} of user ${who.userId} has no workspace checkpoint ${id}`,
        retryable: false,
      });
    }
    await checkpointer.restore(ref, saves[1]?.id ?? "", target);
    expect(await readFile(join(target, "file.txt"), "utf8")).toBe("two");
  });

  it("an aborted save stores nothing", async () => {
    const ref = await newThread();
    const dir = await tempDir();
    await writeFile(join(dir, "a"), "a");
    const error = await createWorkspaceCheckpointer(store)
      .save(ref, dir, AbortSignal.abort())
      .catch((e: unknown) => e);
    expect((error as Error).name).toBe("AbortError");
    expect(await store.workspaceCheckpoints.latest(ref)).toBeUndefined();
  });

  it("a tree of 5000 small files saves once, then re-saves after one change reading one file", async () => {
    const ref = await newThread();
    const dir = await tempDir();
    for (let p = 0; p < 250; p++) {
      const pkg = join(dir, "node_modules", `pkg-${p}`, "lib");
      await mkdir(pkg, { recursive: true });
      await Promise.all(
        Array.from({ length: 20 }, (_, f) =>
          writeFile(join(pkg, `file-${f}.js`), `module.exports = ${p * 100 + f};\n`),
        ),
      );
    }
    await ageTree(dir);
    const checkpointer = createWorkspaceCheckpointer(store);
    let start = performance.now();
    const first = await checkpointer.save(ref, dir);
    const firstMs = performance.now() - start;
    await writeFile(join(dir, "node_modules/pkg-7/lib/file-3.js"), "module.exports = 'changed';\n");
    start = performance.now();
    const second = await checkpointer.save(ref, dir);
    const secondMs = performance.now() - start;
    start = performance.now();
    const target = await tempDir();
    await checkpointer.restore(ref, second.id, target);
    const restoreMs = performance.now() - start;
    console.info(
      `5000 files on ${_name}: first save ${firstMs.toFixed(0)} ms, re-save ${secondMs.toFixed(0)} ms, full restore ${restoreMs.toFixed(0)} ms`,
    );
    expect({ files: first.files, uploaded: first.uploaded.blobs }).toEqual({ files: 5000, uploaded: 5000 });
    expect({ hashed: second.hashedFiles, uploaded: second.uploaded.blobs }).toEqual({
      hashed: 1,
      uploaded: 1,
    });
  });
});
