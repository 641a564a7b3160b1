import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createSandboxProvider } from "../sandbox-provider.ts";
import { collectExec } from "./collect-exec.ts";
import { createSandboxManager } from "./sandbox-manager.ts";
import { createWorkspaceFiles, type WorkspaceFiles } from "./workspace-files.ts";
import { resolveWorkspaceRoot } from "./workspace-path.ts";

const asRoot = process.getuid?.() === 0;
const temps: string[] = [];

async function tempDir(prefix = "kiln-files-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

async function filesIn(dir: string): Promise<WorkspaceFiles> {
  return createWorkspaceFiles(await resolveWorkspaceRoot(dir));
}

afterAll(async () => {
  await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe("the files of a workspace", () => {
  it("lists a directory sorted by name, symlinks as symlinks", async () => {
    const dir = await tempDir();
    await mkdir(join(dir, "src"));
    await writeFile(join(dir, "src/b.ts"), "export {};\n");
    await writeFile(join(dir, "src/a.ts"), "1");
    await symlink("a.ts", join(dir, "src/link"));
    const listing = await (await filesIn(dir)).list("src");
    expect(listing).toEqual({
      path: "src",
      type: "directory",
      entries: [
        { name: "a.ts", path: "src/a.ts", type: "file", size: 1, modifiedAt: expect.any(Number) },
        { name: "b.ts", path: "src/b.ts", type: "file", size: 11, modifiedAt: expect.any(Number) },
        { name: "link", path: "src/link", type: "symlink", size: 0, modifiedAt: expect.any(Number) },
      ],
    });
    expect((await (await filesIn(dir)).list("")).entries.map((entry) => entry.name)).toEqual(["src"]);
  });

  it("reads text as UTF-8 and binary as base64", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "hello.txt"), "héllo\n");
    await writeFile(join(dir, "blob.bin"), Buffer.from([0, 1, 2, 255]));
    const files = await filesIn(dir);
    expect(await files.read("hello.txt")).toEqual({
      path: "hello.txt",
      type: "file",
      size: 7,
      encoding: "utf-8",
      content: "héllo\n",
    });
    expect(await files.read(`${dir}/blob.bin`)).toEqual({
      path: "blob.bin",
      type: "file",
      size: 4,
      encoding: "base64",
      content: "AAEC/w==",
    });
  });

  it("refuses to read a file larger than the limit", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "big.txt"), "x".repeat(2000));
    await expect((await filesIn(dir)).read("big.txt", { maxBytes: 1000 })).rejects.toMatchObject({
      code: "payload_too_large",
    });
  });

  it("writes atomically, creating parent directories and leaving no temp file behind", async () => {
    const dir = await tempDir();
    const files = await filesIn(dir);
    const entry = await files.write("deep/er/new.txt", "first");
    expect(entry).toEqual({
      name: "new.txt",
      path: "deep/er/new.txt",
      type: "file",
      size: 5,
      modifiedAt: expect.any(Number),
    });
    await files.write("deep/er/new.txt", new Uint8Array([104, 105]));
    expect(await readFile(join(dir, "deep/er/new.txt"), "utf8")).toBe("hi");
    expect(await readdir(join(dir, "deep/er"))).toEqual(["new.txt"]);
    expect(await files.stat("deep/er")).toMatchObject({ name: "er", path: "deep/er", type: "directory" });
  });

  it("keeps the mode of a file it replaces", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "run.sh"), "#!/bin/sh\n");
    await chmod(join(dir, "run.sh"), 0o750);
    await (await filesIn(dir)).write("run.sh", "#!/bin/sh\necho hi\n");
    expect((await stat(join(dir, "run.sh"))).mode & 0o777).toBe(0o750);
  });

  it("writes through a symlink that stays inside the workspace, to its target", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "real.txt"), "old");
    await symlink("real.txt", join(dir, "alias.txt"));
    await (await filesIn(dir)).write("alias.txt", "new");
    expect(await readFile(join(dir, "real.txt"), "utf8")).toBe("new");
    expect((await (await filesIn(dir)).list("")).entries.map((entry) => [entry.name, entry.type])).toEqual([
      ["alias.txt", "symlink"],
      ["real.txt", "file"],
    ]);
  });

  it("refuses .. and absolute paths outside the workspace", async () => {
    const dir = await tempDir();
    const files = await filesIn(dir);
    for (const path of ["..", "../x", "a/../../x", "/etc/passwd", `${dir}-sibling/x`]) {
      await expect(files.read(path)).rejects.toMatchObject({ code: "path_escape" });
      await expect(files.write(path, "x")).rejects.toMatchObject({ code: "path_escape" });
    }
  });

  it("refuses every symlink that leads outside: read, stat, list and write, as the last component or in the middle", async () => {
    const dir = await tempDir();
    const outside = await tempDir("kiln-outside-");
    await writeFile(join(outside, "secret.txt"), "secret");
    await symlink(join(outside, "secret.txt"), join(dir, "file-link"));
    await symlink(outside, join(dir, "dir-link"));
    await symlink(join(outside, "missing.txt"), join(dir, "dangling-link"));
    await symlink("../..", join(dir, "up"));
    const files = await filesIn(dir);
    const attempts: [string, () => Promise<unknown>][] = [
      ["read file-link", () => files.read("file-link")],
      ["stat file-link", () => files.stat("file-link")],
      ["read dir-link/secret.txt", () => files.read("dir-link/secret.txt")],
      ["list dir-link", () => files.list("dir-link")],
      ["list up", () => files.list("up")],
      ["write file-link", () => files.write("file-link", "pwned")],
      ["write dir-link/new.txt", () => files.write("dir-link/new.txt", "pwned")],
      ["write dir-link/sub/new.txt", () => files.write("dir-link/sub/new.txt", "pwned")],
      ["write dangling-link", () => files.write("dangling-link", "pwned")],
      ["read dangling-link", () => files.read("dangling-link")],
    ];
    const outcomes: string[] = [];
    for (const [name, attempt] of attempts) {
      outcomes.push(
        await attempt().then(
          () => `${name}: allowed`,
          (error: { code?: string }) => `${name}: ${error.code}`,
        ),
      );
    }
    expect(outcomes).toEqual(attempts.map(([name]) => `${name}: path_escape`));
    expect(await readdir(outside)).toEqual(["secret.txt"]);
    expect(await readFile(join(outside, "secret.txt"), "utf8")).toBe("secret");
  });

  it("refuses writes into .git, even through a symlink", async () => {
    const dir = await tempDir();
    execFileSync("git", ["init", "-q", dir]);
    await symlink(".git/hooks", join(dir, "hooks"));
    const files = await filesIn(dir);
    await expect(files.write(".git/hooks/pre-commit", "evil")).rejects.toMatchObject({
      code: "sandbox_denied",
    });
    await expect(files.write("hooks/pre-commit", "evil")).rejects.toMatchObject({ code: "sandbox_denied" });
    await expect(files.write(".git/new/dir/x", "evil")).rejects.toMatchObject({ code: "sandbox_denied" });
    expect(await readdir(join(dir, ".git/hooks"))).not.toContain("pre-commit");
    expect(await readdir(join(dir, ".git"))).not.toContain("new");
    expect(await files.read(".git/HEAD")).toMatchObject({ encoding: "utf-8" });
  });

  it("does not hang on a FIFO", async () => {
    const dir = await tempDir();
    execFileSync("mkfifo", [join(dir, "pipe")]);
    await expect((await filesIn(dir)).read("pipe")).rejects.toMatchObject({ code: "invalid_request" });
  });
});

describe("files written through a live sandbox", () => {
  it.skipIf(!asRoot)("stay writable by sandboxed commands when Kiln runs as root", async () => {
    const dir = await tempDir();
    const manager = createSandboxManager({ provider: createSandboxProvider("workspace-write") });
    const sandbox = manager.open({ id: `sbx_${randomUUID()}`, workspace: dir, networkAccess: false });
    try {
      // The first command grants the sandbox user the workspace (with a default ACL for new files).
      await collectExec(sandbox.exec({ command: "true" }));
      await sandbox.files.write("fresh/new.txt", "from the API\n");
      await collectExec(sandbox.exec({ command: "echo mine > theirs.txt" }));
      const owner = (await stat(join(dir, "theirs.txt"))).uid;
      await sandbox.files.write("theirs.txt", "replaced\n");
      expect((await stat(join(dir, "theirs.txt"))).uid).toBe(owner);
      const result = await collectExec(
        sandbox.exec({
          command:
            "echo sandbox >> fresh/new.txt && echo more >> theirs.txt && touch fresh/another && cat fresh/new.txt theirs.txt",
        }),
      );
      expect(result).toMatchObject({
        exit_code: 0,
        stdout: "from the API\nsandbox\nreplaced\nmore\n",
        stderr: "",
      });
    } finally {
      await manager.close();
    }
  });
});
