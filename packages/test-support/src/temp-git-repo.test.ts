import { execFile } from "node:child_process";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { createTempGitRepo } from "./temp-git-repo.ts";

const execFileAsync = promisify(execFile);
const scenariosDir = fileURLToPath(new URL("../scenarios/", import.meta.url));

describe("createTempGitRepo", () => {
  it("creates a repo on main with the files committed and a clean tree", async () => {
    const repo = await createTempGitRepo(
      { "README.md": "# demo\n", "src/nested/a.txt": "a\n" },
      { commitMessage: "seed the repo" },
    );
    try {
      expect(await readFile(join(repo.dir, "src/nested/a.txt"), "utf8")).toBe("a\n");
      expect((await repo.git("branch", "--show-current")).trim()).toBe("main");
      expect((await repo.git("log", "--format=%s|%an|%ae")).trim()).toBe(
        "seed the repo|Kiln Test|kiln-test@example.com",
      );
      expect((await repo.git("ls-files")).trim().split("\n")).toEqual(["README.md", "src/nested/a.txt"]);
      expect(await repo.git("status", "--porcelain")).toBe("");
    } finally {
      await repo.cleanup();
    }
  });

  it("removes the directory on cleanup", async () => {
    const repo = await createTempGitRepo({});
    await repo.cleanup();

    await expect(stat(repo.dir)).rejects.toThrow("ENOENT");
  });

  it("reports a failing git command with its stderr", async () => {
    const repo = await createTempGitRepo({ "a.txt": "a" });
    try {
      await expect(repo.git("checkout", "no-such-branch")).rejects.toThrow(
        /git checkout no-such-branch failed in .*: error: pathspec 'no-such-branch' did not match/,
      );
    } finally {
      await repo.cleanup();
    }
  });

  it("holds the fix-failing-test repo, whose test fails until sum.js is fixed", async () => {
    const files = JSON.parse(
      await readFile(join(scenariosDir, "fix-failing-test.repo.json"), "utf8"),
    ) as Record<string, string>;
    const repo = await createTempGitRepo(files);
    try {
      const failing = await execFileAsync("node", ["test.js"], { cwd: repo.dir }).catch((e: unknown) => e);

      expect(failing).toMatchObject({ code: 1, stderr: expect.stringContaining("AssertionError") });
    } finally {
      await repo.cleanup();
    }
  });
});
