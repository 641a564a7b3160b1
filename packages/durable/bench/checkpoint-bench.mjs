// Figures for docs/scale.md: what a workspace checkpoint costs (`kiln worker --workspaces checkpoint`)
// on a tree the size of a small project with its dependencies (5,000 files in node_modules layout plus
// a git repository): the first save, a save after one file changed (what each mutating step pays), a
// save with nothing changed, a restore into an empty directory (a worker taking a turn over) and a restore with nothing to do.
// Needs KILN_TEST_PG_URL (scripts/pg-test-cluster.sh start) and the built packages.
//   node packages/durable/bench/checkpoint-bench.mjs
// Prints JSON; `benchCheckpoints()` returns the same figures for scripts/bench.mjs.
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createWorkspaceCheckpointer } from "@kiln/durable";
import { newId } from "@kiln/protocol";
import { createPostgresTestDatabase, openStore } from "@kiln/store";
import { runStandalone } from "./run-standalone.mjs";

/** Runs the benchmark on a tree of `files` files; `runs` one-change saves. */
export async function benchCheckpoints({ pgUrl, files = 5000, runs = 5 }) {
  const db = await createPostgresTestDatabase(pgUrl);
  const store = await openStore(db.url);
  const dir = await mkdtemp(join(tmpdir(), "kiln-ckpt-bench-"));
  try {
    const userId = `usr_${newId("thr").slice(4)}`;
    await store.users.create({ id: userId, username: "bench", role: "user", passwordHash: "x", now: 1 });
    const work = join(dir, "work");
    await makeTree(work, files);
    const info = {
      id: newId("thr"),
      createdAt: Date.now(),
      cwd: work,
      model: "m",
      modelProvider: "openai",
      sandbox: "workspace-write",
      approvalPolicy: "never",
      mode: "code",
      additionalDirectories: [],
    };
    await store.threads.create({ userId, info, title: "", status: "idle", now: Date.now() });
    const ref = { userId, threadId: info.id };
    const checkpointer = createWorkspaceCheckpointer(store);
    const time = async (fn) => {
      const start = performance.now();
      const value = await fn();
      return { ms: performance.now() - start, value };
    };
    const first = await time(() => checkpointer.save(ref, work));
    const resaves = [];
    for (let i = 0; i < runs; i++) {
      await writeFile(join(work, "src", "index.js"), `export const run = ${i};\n`);
      resaves.push((await time(() => checkpointer.save(ref, work))).ms);
    }
    const unchanged = [];
    for (let i = 0; i < runs; i++) unchanged.push((await time(() => checkpointer.save(ref, work))).ms);
    const latest = await checkpointer.latest(ref);
    // A fresh checkpointer is a worker that has never seen the tree.
    const elsewhere = createWorkspaceCheckpointer(store);
    const target = join(dir, "restored");
    const restore = await time(() => elsewhere.restore(ref, latest.id, target));
    const again = await time(() => elsewhere.restore(ref, latest.id, target));
    return {
      files: first.value.files,
      bytes: first.value.bytes,
      firstSaveMs: first.ms,
      oneChangeSaveMs: median(resaves),
      unchangedSaveMs: median(unchanged),
      restoreEmptyMs: restore.ms,
      restoreUnchangedMs: again.ms,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
    await store.close();
    await db.drop();
  }
}

/** A git repository with a small source tree and `files` dependency files (1–4 KiB each). */
async function makeTree(root, files) {
  await mkdir(join(root, "src"), { recursive: true });
  await writeFile(join(root, "src", "index.js"), "export const run = -1;\n");
  await writeFile(join(root, "package.json"), '{ "name": "bench" }\n');
  for (let i = 0; i < files; i++) {
    const pkg = join(root, "node_modules", `pkg-${Math.floor(i / 20)}`, i % 20 < 10 ? "lib" : "dist");
    if (i % 10 === 0) await mkdir(pkg, { recursive: true });
    await writeFile(join(pkg, `file-${i}.js`), `// ${i}\n${"x".repeat(1024 * (1 + (i % 4)))}\n`);
  }
  const git = (...args) => execFileSync("git", ["-C", root, ...args], { stdio: "ignore" });
  git("init", "-q");
  git("add", "src", "package.json");
  git("-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "init");
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

await runStandalone(import.meta.url, benchCheckpoints);
