// The behaviour of the workspace checkpoint repository on every database, run by sqlite.test.ts and
// postgres.test.ts. Each test makes its own users and threads, so the tests stay independent.
import { createHash, randomUUID } from "node:crypto";
import { deflateSync } from "node:zlib";
import { KilnError, newId } from "@kiln/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type {
  KilnStore,
  StoredWorkspaceCheckpoint,
  WorkspaceBlob,
  WorkspaceManifestEntry,
} from "./kiln-store.ts";
import { openStore } from "./open-store.ts";
import type { TestDatabase } from "./test-database.ts";

/** A fixed clock: 2026-01-15T10:00:00Z. */
const T0 = Date.UTC(2026, 0, 15, 10);

/** A blob of `text`, as the checkpoint engine stores it (zlib-compressed). */
function blob(text: string): WorkspaceBlob {
  const content = Buffer.from(text);
  return {
    sha256: createHash("sha256").update(content).digest("hex"),
    size: content.byteLength,
    data: new Uint8Array(deflateSync(content)),
  };
}

const file = (path: string, b: WorkspaceBlob, mode = 0o644): WorkspaceManifestEntry => ({
  type: "file",
  path,
  mode,
  sha256: b.sha256,
  size: b.size,
});

const bySha = (a: WorkspaceBlob, b: WorkspaceBlob) => a.sha256.localeCompare(b.sha256);

/** Defines the workspace checkpoint suite for one database; `newDatabase` makes an empty one. */
export function describeWorkspaceCheckpointContract(
  name: string,
  newDatabase: () => Promise<TestDatabase>,
): void {
  describe(name, () => {
    let store: KilnStore;
    let database: TestDatabase | undefined;
    beforeAll(async () => {
      database = await newDatabase();
      store = await openStore(database.url);
    });
    afterAll(async () => {
      await store?.close();
      await database?.drop();
    });

    const newUser = async () => {
      const id = `usr_${randomUUID()}`;
      await store.users.create({
        id,
        username: `u-${id.slice(4, 16)}`,
        role: "user",
        passwordHash: "h",
        now: T0,
      });
      return id;
    };
    const newThread = async (userId: string) => {
      const id = newId("thr", T0);
      await store.threads.create({
        userId,
        info: {
          id,
          createdAt: T0,
          cwd: "/work/repo",
          model: "gpt-test",
          modelProvider: "openai",
          sandbox: "workspace-write",
          approvalPolicy: "never",
          mode: "code",
          additionalDirectories: [],
        },
        title: "a thread",
        status: "idle",
        now: T0,
      });
      return id;
    };
    const checkpoint = (userId: string, threadId: string, manifest: WorkspaceManifestEntry[], at = T0) =>
      store.workspaceCheckpoints.create({ id: newId("ckpt", at), userId, threadId, createdAt: at, manifest });

    it("blobs are stored once per user: missing ones are listed, a second put keeps the first, another user sees none", async () => {
      const alice = await newUser();
      const bob = await newUser();
      const [x, y, z] = [blob("x content"), blob("y content"), blob("z content")];
      await store.workspaceCheckpoints.putBlobs(alice, [x, y, x]);
      expect(
        await store.workspaceCheckpoints.missingBlobs(alice, [z.sha256, x.sha256, z.sha256, y.sha256]),
      ).toEqual([z.sha256]);
      expect(await store.workspaceCheckpoints.missingBlobs(bob, [x.sha256])).toEqual([x.sha256]);
      expect(await store.workspaceCheckpoints.getBlobs(bob, [x.sha256, y.sha256])).toEqual([]);

      await store.workspaceCheckpoints.putBlobs(alice, [{ ...x, data: new Uint8Array([1, 2, 3]) }]);
      const got = await store.workspaceCheckpoints.getBlobs(alice, [x.sha256, y.sha256, z.sha256]);
      expect(got.sort(bySha)).toEqual([x, y].sort(bySha));
    });

    it("a checkpoint is stored whole with its files and bytes counted, is its thread's latest, and is hidden from other users", async () => {
      const alice = await newUser();
      const bob = await newUser();
      const thread = await newThread(alice);
      const [a, b] = [blob("console.log('a')\n"), blob("#!/bin/sh\necho b\n")];
      await store.workspaceCheckpoints.putBlobs(alice, [a, b]);
      const manifest: WorkspaceManifestEntry[] = [
        { type: "dir", path: "src", mode: 0o755 },
        file("src/a.js", a),
        file("src/b.sh", b, 0o755),
        file("src/copy.js", a),
        { type: "symlink", path: "link", target: "src/a.js" },
      ];
      const first = await checkpoint(alice, thread, manifest);
      expect(first).toEqual({
        id: first.id,
        userId: alice,
        threadId: thread,
        createdAt: T0,
        manifest,
        files: 3,
        bytes: 2 * a.size + b.size,
      } satisfies StoredWorkspaceCheckpoint);
      // Same millisecond: the one created later is still the newest.
      const second = await checkpoint(alice, thread, [file("only.js", a)]);
      expect(await store.workspaceCheckpoints.latest({ userId: alice, threadId: thread })).toEqual(second);
      expect(await store.workspaceCheckpoints.get({ userId: alice, id: first.id })).toEqual(first);

      expect(await store.workspaceCheckpoints.latest({ userId: bob, threadId: thread })).toBeUndefined();
      expect(await store.workspaceCheckpoints.get({ userId: bob, id: first.id })).toBeUndefined();
      expect(
        await store.workspaceCheckpoints.latest({ userId: alice, threadId: await newThread(alice) }),
      ).toBeUndefined();
    });

    it("a checkpoint of another user's thread, of content not stored, or with a taken id is refused and nothing is stored", async () => {
      const alice = await newUser();
      const bob = await newUser();
      const thread = await newThread(alice);
      const stored = blob("stored");
      const mine = blob("only alice has this");
      await store.workspaceCheckpoints.putBlobs(alice, [stored, mine]);
      await store.workspaceCheckpoints.putBlobs(bob, [stored]);

      const foreign = await checkpoint(bob, thread, [file("a", stored)]).catch((e: unknown) => e);
      expect((foreign as KilnError).toInfo()).toEqual({
        code: "not_found",
        message: `user ${bob} has no thread ${thread}`,
        retryable: false,
      });

      const missing = blob("never uploaded");
      const unstored = await checkpoint(alice, thread, [file("a", stored), file("b", missing)]).catch(
        (e: unknown) => e,
      );
      expect(unstored).toBeInstanceOf(KilnError);
      expect((unstored as KilnError).code).toBe("conflict");
      expect((unstored as KilnError).details).toEqual({ missing: [missing.sha256] });
      expect(await store.workspaceCheckpoints.latest({ userId: alice, threadId: thread })).toBeUndefined();

      const made = await checkpoint(alice, thread, [file("a", stored)]);
      const again = await store.workspaceCheckpoints
        .create({ id: made.id, userId: alice, threadId: thread, createdAt: T0, manifest: [] })
        .catch((e: unknown) => e);
      expect((again as KilnError).toInfo()).toEqual({
        code: "conflict",
        message: `a workspace checkpoint ${made.id} already exists`,
        retryable: false,
      });
    });

    it("a manifest entry that is not valid is refused as invalid_request", async () => {
      const alice = await newUser();
      const thread = await newThread(alice);
      const bad = [
        { type: "file", path: "a", mode: 0o644, sha256: "not-a-hash", size: 1 },
      ] as WorkspaceManifestEntry[];
      const error = await checkpoint(alice, thread, bad).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KilnError);
      expect((error as KilnError).code).toBe("invalid_request");
    });

    it("prune keeps the newest checkpoints and deletes only the blobs nothing of the user references any more", async () => {
      const alice = await newUser();
      const bob = await newUser();
      const thread = await newThread(alice);
      const other = await newThread(alice);
      const [x, y, z, w] = [blob("x"), blob("y"), blob("z"), blob("w")];
      const inFlight = blob("uploaded by a save still running");
      await store.workspaceCheckpoints.putBlobs(alice, [x, y, z, w]);
      await store.workspaceCheckpoints.putBlobs(bob, [y]);
      const c1 = await checkpoint(alice, thread, [file("x", x), file("y", y)], T0);
      const c2 = await checkpoint(alice, thread, [file("y", y), file("z", z)], T0 + 1);
      const c3 = await checkpoint(alice, thread, [file("z", z), file("w", w)], T0 + 2);
      const elsewhere = await checkpoint(alice, other, [file("x", x)], T0 + 3);
      await store.workspaceCheckpoints.putBlobs(alice, [inFlight]);

      // c1 goes; x is still the other thread's, y is still c2's.
      expect(await store.workspaceCheckpoints.prune({ userId: alice, threadId: thread, keep: 2 })).toEqual({
        checkpoints: 1,
        blobs: 0,
      });
      expect(await store.workspaceCheckpoints.get({ userId: alice, id: c1.id })).toBeUndefined();
      expect(await store.workspaceCheckpoints.get({ userId: alice, id: c2.id })).toEqual(c2);

      // c2 goes; y is referenced by nothing of alice's (bob's copy is his own).
      expect(await store.workspaceCheckpoints.prune({ userId: alice, threadId: thread, keep: 1 })).toEqual({
        checkpoints: 1,
        blobs: 1,
      });
      expect(
        await store.workspaceCheckpoints.missingBlobs(
          alice,
          [x, y, z, w, inFlight].map((b) => b.sha256),
        ),
      ).toEqual([y.sha256]);
      expect(await store.workspaceCheckpoints.getBlobs(bob, [y.sha256])).toEqual([y]);
      expect(await store.workspaceCheckpoints.latest({ userId: alice, threadId: thread })).toEqual(c3);
      expect(await store.workspaceCheckpoints.latest({ userId: alice, threadId: other })).toEqual(elsewhere);

      // Nothing older: nothing to do; another user's prune of the thread touches nothing.
      expect(await store.workspaceCheckpoints.prune({ userId: alice, threadId: thread, keep: 1 })).toEqual({
        checkpoints: 0,
        blobs: 0,
      });
      expect(await store.workspaceCheckpoints.prune({ userId: bob, threadId: thread, keep: 1 })).toEqual({
        checkpoints: 0,
        blobs: 0,
      });
      const zero = await store.workspaceCheckpoints
        .prune({ userId: alice, threadId: thread, keep: 0 })
        .catch((e: unknown) => e);
      expect((zero as KilnError).code).toBe("invalid_request");
    });

    it("large batches of blobs and manifest entries go through in several statements", async () => {
      const alice = await newUser();
      const thread = await newThread(alice);
      const blobs = Array.from({ length: 1234 }, (_, i) => blob(`file number ${i}`));
      await store.workspaceCheckpoints.putBlobs(alice, blobs);
      const shas = blobs.map((b) => b.sha256);
      expect(await store.workspaceCheckpoints.missingBlobs(alice, [...shas, blob("absent").sha256])).toEqual([
        blob("absent").sha256,
      ]);
      expect((await store.workspaceCheckpoints.getBlobs(alice, shas)).sort(bySha)).toEqual(
        [...blobs].sort(bySha),
      );
      const big = await checkpoint(
        alice,
        thread,
        blobs.map((b, i) => file(`f${i}`, b)),
      );
      expect({ files: big.files, bytes: big.bytes }).toEqual({
        files: 1234,
        bytes: blobs.reduce((sum, b) => sum + b.size, 0),
      });
      await checkpoint(alice, thread, []);
      expect(await store.workspaceCheckpoints.prune({ userId: alice, threadId: thread, keep: 1 })).toEqual({
        checkpoints: 1,
        blobs: 1234,
      });
    });
  });
}
