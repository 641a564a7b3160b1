// The preflight of `kiln tasks apply` on real git work trees: diffs made by git itself (renames, binary
// files, names with spaces and non-ASCII letters) split per file, and each file's verdict: apply,
// already applied, conflict, refused (paths outside the work tree, binary changes without content).
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createTempGitRepo, type TempGitRepo } from "@kiln/test-support";
import { afterEach, describe, expect, it } from "vitest";
import { preflightPatch, splitPatch, unquote, unsafePathReason } from "../src/remote/patch-preflight.ts";

const repos: TempGitRepo[] = [];
afterEach(async () => {
  for (const repo of repos.splice(0)) await repo.cleanup();
});

async function repo(files: Record<string, string>): Promise<TempGitRepo> {
  const made = await createTempGitRepo(files);
  repos.push(made);
  return made;
}

const env = {
  PATH: process.env.PATH,
  HOME: "/nonexistent",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
};

/** The diff git makes for changes `change` does to a repository with `files` (then undone). */
async function diffOf(
  files: Record<string, string>,
  change: (r: TempGitRepo) => Promise<void>,
): Promise<string> {
  const source = await repo(files);
  await change(source);
  await source.git("add", "-A");
  return source.git("diff", "--cached", "--binary", "-M", "--src-prefix=a/", "--dst-prefix=b/");
}

const verdicts = (files: { patch: { path: string; oldPath?: string }; verdict: string; reason?: string }[]) =>
  files.map((f) => ({ path: f.patch.path, oldPath: f.patch.oldPath, verdict: f.verdict, reason: f.reason }));

describe("splitPatch", () => {
  it("finds each file's paths: modified, added, deleted, renamed, binary, quoted names", async () => {
    const diff = await diffOf(
      { "a.txt": "one\n", "old name.txt": "same\nlines\nhere\n", "gone.txt": "bye\n", "é.txt": "x\n" },
      async (r) => {
        await writeFile(join(r.dir, "a.txt"), "two\n");
        await writeFile(join(r.dir, "new file.txt"), "new\n");
        await writeFile(join(r.dir, "img.bin"), Buffer.from([0, 1, 2, 255]));
        await writeFile(join(r.dir, "é.txt"), "y\n");
        await r.git("mv", "old name.txt", "renamed name.txt");
        await r.git("rm", "-q", "gone.txt");
      },
    );
    const patches = splitPatch(diff);
    expect(
      patches.map((p) => ({ path: p.path, oldPath: p.oldPath, binaryWithoutData: p.binaryWithoutData })),
    ).toEqual([
      { path: "a.txt", oldPath: undefined, binaryWithoutData: false },
      { path: "gone.txt", oldPath: undefined, binaryWithoutData: false },
      { path: "img.bin", oldPath: undefined, binaryWithoutData: false },
      { path: "new file.txt", oldPath: undefined, binaryWithoutData: false },
      { path: "renamed name.txt", oldPath: "old name.txt", binaryWithoutData: false },
      { path: "é.txt", oldPath: undefined, binaryWithoutData: false },
    ]);
    expect(patches.map((p) => p.text).join("")).toBe(diff);
  });

  it("reads git's quoted paths back", () => {
    expect(unquote('"a/tab\\there \\"q\\" \\303\\251.txt"')).toBe('a/tab\there "q" é.txt');
    expect(unquote("plain.txt")).toBe("plain.txt");
  });

  it("knows the paths git refuses", () => {
    expect(
      ["ok/file.txt", "/etc/passwd", "../up", "a/../../b", ".git/hooks/x", "sub/.GIT/config"].map(
        unsafePathReason,
      ),
    ).toEqual([
      undefined,
      "an absolute path, outside the work tree",
      "a path outside the work tree (..)",
      "a path outside the work tree (..)",
      "a path inside .git",
      "a path inside .git",
    ]);
  });
});

describe("preflightPatch", () => {
  it("gives each file its verdict and reason, and touches nothing", async () => {
    const diff = await diffOf({ "a.txt": "one\n", "b.txt": "bee\n", "c.txt": "sea\n" }, async (r) => {
      await writeFile(join(r.dir, "a.txt"), "two\n");
      await writeFile(join(r.dir, "b.txt"), "bee!\n");
      await writeFile(join(r.dir, "c.txt"), "sea!\n");
    });
    const target = await repo({ "a.txt": "one\n", "b.txt": "bee!\n", "c.txt": "local change\n" });
    const result = await preflightPatch(target.dir, diff, env);
    expect(verdicts(result.files)).toEqual([
      { path: "a.txt", oldPath: undefined, verdict: "apply", reason: undefined },
      {
        path: "b.txt",
        oldPath: undefined,
        verdict: "already-applied",
        reason: "the tree already has this change",
      },
      {
        path: "c.txt",
        oldPath: undefined,
        verdict: "conflict",
        reason: "patch failed: c.txt:1; c.txt: patch does not apply",
      },
    ]);
    expect(result.clean).toBe(false);
    expect(await target.git("status", "--porcelain")).toBe("");
  });

  it("refuses paths outside the work tree and binary changes without content, whatever git would say", async () => {
    const target = await repo({ "a.txt": "one\n" });
    const outside =
      "diff --git a/../evil b/../evil\nnew file mode 100644\n--- /dev/null\n+++ b/../evil\n@@ -0,0 +1 @@\n+x\n";
    const binary =
      "diff --git a/img.png b/img.png\nnew file mode 100644\nindex 0000000..45b983b\nBinary files /dev/null and b/img.png differ\n";
    const result = await preflightPatch(target.dir, outside + binary, env);
    expect(verdicts(result.files)).toEqual([
      {
        path: "../evil",
        oldPath: undefined,
        verdict: "refused",
        reason: "a path outside the work tree (..)",
      },
      {
        path: "img.png",
        oldPath: undefined,
        verdict: "refused",
        reason: "a binary change without its content",
      },
    ]);
    expect(result.clean).toBe(false);
  });

  it("calls a diff clean when every file applies or is already there", async () => {
    const diff = await diffOf({ "a.txt": "one\n" }, async (r) => {
      await writeFile(join(r.dir, "a.txt"), "two\n");
      await writeFile(join(r.dir, "bin.dat"), Buffer.from([0, 200, 3]));
    });
    const target = await repo({ "a.txt": "one\n" });
    expect(verdicts((await preflightPatch(target.dir, diff, env)).files).map((f) => f.verdict)).toEqual([
      "apply",
      "apply",
    ]);
    await writeFile(join(target.dir, "a.txt"), "two\n");
    const result = await preflightPatch(target.dir, diff, env);
    expect(result).toMatchObject({ clean: true });
    expect(verdicts(result.files).map((f) => f.verdict)).toEqual(["already-applied", "apply"]);
  });
});
