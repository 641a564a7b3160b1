import { createHash } from "node:crypto";
import {
  appendFile,
  chmod,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  symlink,
  writeFile,
} from "node:fs/promises";
import { join } from "node:path";
import { KilnError } from "@kiln/protocol";
import { createTempGitRepo, type TempGitRepo } from "@kiln/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyDiffToWorkspace } from "./apply-diff-to-workspace.ts";
import { git, removeTempDirs, tempDir } from "./environment-test-helpers.ts";
import { workspaceDiff } from "./workspace-diff.ts";

const lines = (count: number, word: string) =>
  `${Array.from({ length: count }, (_, i) => `${word} line ${i}`).join("\n")}\n`;
const binary = (seed: number) => Buffer.from(Array.from({ length: 300 }, (_, i) => (i * seed) % 256));

let repo: TempGitRepo;
let base: string;

/** Every path under `dir` with a hash of its contents (a symlink by its target). */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    const relative = path.slice(dir.length + 1);
    if (relative === ".git" || relative.startsWith(".git/")) continue;
    if (entry.isSymbolicLink()) out[relative] = `-> ${await readlink(path)}`;
    else if (entry.isFile()) {
      const mode = (await stat(path)).mode & 0o111 ? "x" : "-";
      out[relative] = `${mode} ${createHash("sha256")
        .update(await readFile(path))
        .digest("hex")}`;
    }
  }
  return out;
}

/**
 * Every path under `.git` with a hash of its contents, and the index's modification time. (Loose
 * objects' times are not compared: git "freshens" an object it finds already stored, even through an
 * alternate, which changes its mtime but nothing else.)
 */
async function gitDirState(dir: string): Promise<string[]> {
  const entries = await readdir(join(dir, ".git"), { recursive: true, withFileTypes: true });
  const state = await Promise.all(
    entries.map(async (entry) => {
      const path = join(entry.parentPath, entry.name);
      if (!entry.isFile()) return path;
      return `${path} ${createHash("sha256")
        .update(await readFile(path))
        .digest("hex")}`;
    }),
  );
  return [...state.sort(), `index mtime ${(await stat(join(dir, ".git", "index"))).mtimeMs}`];
}

beforeAll(async () => {
  repo = await createTempGitRepo({
    ".gitignore": "*.log\n",
    "modify.txt": lines(5, "old"),
    "delete.txt": "to be deleted\n",
    "rename-from.txt": lines(40, "moving"),
    "image.bin": "",
    "no-newline.txt": "first\nlast without newline",
    "script.sh": "echo hi\n",
  });
  await writeFile(join(repo.dir, "image.bin"), binary(7));
  await repo.git("commit", "-qam", "binary");
  base = (await repo.git("rev-parse", "HEAD")).trim();

  await writeFile(join(repo.dir, "modify.txt"), lines(5, "old").replace("old line 2", "new line 2"));
  await rm(join(repo.dir, "delete.txt"));
  await rm(join(repo.dir, "rename-from.txt"));
  await writeFile(join(repo.dir, "renamed to.txt"), `${lines(40, "moving")}one more\n`);
  await writeFile(join(repo.dir, "image.bin"), binary(11));
  await writeFile(join(repo.dir, "added.bin"), Buffer.concat([Buffer.from([0, 1, 2]), binary(3)]));
  await writeFile(join(repo.dir, "no-newline.txt"), "first\nchanged last, still no newline");
  await writeFile(join(repo.dir, "é new.md"), "unicode name\n");
  await writeFile(join(repo.dir, "latin1 [é].txt"), Buffer.from("caf\xe9 cr\xe8me\n", "latin1"));
  await symlink("modify.txt", join(repo.dir, "link-to-modify"));
  await chmod(join(repo.dir, "script.sh"), 0o755);
  // Neither an ignored file nor an excluded one belongs in the diff.
  await writeFile(join(repo.dir, "debug.log"), "noise\n");
  await writeFile(join(repo.dir, "setup-artifact.txt"), "installed\n");
  await appendFile(join(repo.dir, ".git", "info", "exclude"), "/setup-artifact.txt\n");
});

afterAll(async () => {
  await repo.cleanup();
  await removeTempDirs();
});

describe("workspaceDiff", () => {
  it("lists every change against the base commit with its line counts", async () => {
    const result = await workspaceDiff(repo.dir, base);

    expect(result.files).toEqual([
      { path: "added.bin", kind: "added", additions: 0, deletions: 0, binary: true },
      { path: "delete.txt", kind: "deleted", additions: 0, deletions: 1, binary: false },
      { path: "image.bin", kind: "modified", additions: 0, deletions: 0, binary: true },
      { path: "latin1 [é].txt", kind: "added", additions: 0, deletions: 0, binary: true },
      { path: "link-to-modify", kind: "added", additions: 1, deletions: 0, binary: false },
      { path: "modify.txt", kind: "modified", additions: 1, deletions: 1, binary: false },
      { path: "no-newline.txt", kind: "modified", additions: 1, deletions: 1, binary: false },
      {
        path: "renamed to.txt",
        kind: "renamed",
        oldPath: "rename-from.txt",
        additions: 1,
        deletions: 0,
        binary: false,
      },
      { path: "script.sh", kind: "modified", additions: 0, deletions: 0, binary: false },
      { path: "é new.md", kind: "added", additions: 1, deletions: 0, binary: false },
    ]);
    expect(result.stats).toEqual({ filesModified: 10, linesAdded: 5, linesRemoved: 3 });
    expect(result.diff).toContain("diff --git a/rename-from.txt b/renamed to.txt\n");
    expect(result.diff).toContain("diff --git a/é new.md b/é new.md\n");
    expect(result.diff).toContain("GIT binary patch");
    expect(result.diff).not.toContain("debug.log");
    expect(result.diff).not.toContain("setup-artifact");
  });

  it("produces a diff that git apply turns a fresh checkout of the base into the same tree", async () => {
    const { diff } = await workspaceDiff(repo.dir, base);
    const fresh = join(await tempDir("kiln-fresh-"), "checkout");
    await git(repo.dir, "clone", "-q", "--no-checkout", repo.dir, fresh);
    await git(fresh, "checkout", "-q", "--detach", base);

    await applyDiffToWorkspace(fresh, diff);

    const expected = await snapshot(repo.dir);
    delete expected["debug.log"];
    delete expected["setup-artifact.txt"];
    expect(await snapshot(fresh)).toEqual(expected);
    expect((await workspaceDiff(fresh, base)).diff).toBe(diff);
  });

  it("leaves the workspace's index and everything else under .git as they were", async () => {
    const status = await git(repo.dir, "status", "--porcelain");
    const before = await gitDirState(repo.dir);

    await workspaceDiff(repo.dir, base);

    expect(await gitDirState(repo.dir)).toEqual(before);
    expect(await git(repo.dir, "status", "--porcelain")).toBe(status);
  });

  it("is empty for an unchanged workspace", async () => {
    const clean = await createTempGitRepo({ "a.txt": "a\n" });
    try {
      const head = (await clean.git("rev-parse", "HEAD")).trim();
      expect(await workspaceDiff(clean.dir, head)).toEqual({
        diff: "",
        stats: { filesModified: 0, linesAdded: 0, linesRemoved: 0 },
        files: [],
      });
    } finally {
      await clean.cleanup();
    }
  });

  it("refuses a directory that is not the top of a git work tree, and an unknown commit", async () => {
    const plain = await tempDir("kiln-plain-");

    const notRepo = await workspaceDiff(plain, base).catch((error: unknown) => error);
    const unknown = await workspaceDiff(repo.dir, "0".repeat(40)).catch((error: unknown) => error);

    expect(notRepo).toBeInstanceOf(KilnError);
    expect((notRepo as KilnError).message).toMatch(
      new RegExp(`^Cannot diff ${plain}: it is not the top of a git work tree`),
    );
    expect(unknown).toBeInstanceOf(KilnError);
    expect((unknown as KilnError).message).toBe(
      `Cannot diff ${repo.dir}: its repository has no commit ${"0".repeat(40)}.`,
    );
  });
});

describe("applyDiffToWorkspace", () => {
  it("applies nothing at all when one file of a patch does not apply", async () => {
    const target = await createTempGitRepo({ "a.txt": "one\n", "b.txt": "two\n" });
    try {
      const patch = [
        "diff --git a/a.txt b/a.txt",
        "--- a/a.txt",
        "+++ b/a.txt",
        "@@ -1 +1 @@",
        "-one",
        "+ONE",
        "diff --git a/b.txt b/b.txt",
        "--- a/b.txt",
        "+++ b/b.txt",
        "@@ -1 +1 @@",
        "-something else",
        "+TWO",
        "",
      ].join("\n");

      const error = await applyDiffToWorkspace(target.dir, patch).catch((thrown: unknown) => thrown);

      expect(error).toBeInstanceOf(KilnError);
      expect((error as KilnError).code).toBe("patch_invalid");
      expect((error as KilnError).message).toBe(
        "The patch does not apply to the workspace: error: patch failed: b.txt:1\nerror: b.txt: patch does not apply",
      );
      expect(await readFile(join(target.dir, "a.txt"), "utf8")).toBe("one\n");
      expect(await git(target.dir, "status", "--porcelain")).toBe("");
    } finally {
      await target.cleanup();
    }
  });

  it("treats an empty patch as nothing to do", async () => {
    const target = await createTempGitRepo({ "a.txt": "one\n" });
    try {
      await applyDiffToWorkspace(target.dir, "");
      expect(await git(target.dir, "status", "--porcelain")).toBe("");
    } finally {
      await target.cleanup();
    }
  });
});
