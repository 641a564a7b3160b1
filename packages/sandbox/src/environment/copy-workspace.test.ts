import { execFile } from "node:child_process";
import {
  chmod,
  link,
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  stat,
  symlink,
  writeFile,
} from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { KilnError } from "@kiln/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { copyWorkspace } from "./copy-workspace.ts";
import { git, removeTempDirs, tempDir } from "./environment-test-helpers.ts";

const execFileAsync = promisify(execFile);

/** Every entry under `dir`: type, permission bits, and contents or link target. */
async function describeTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    const info = await lstat(path);
    const mode = (info.mode & 0o7777).toString(8);
    const key = path.slice(dir.length + 1);
    if (info.isSymbolicLink()) out[key] = `link -> ${await readlink(path)}`;
    else if (info.isDirectory()) out[key] = `dir ${mode}`;
    else out[key] = `file ${mode} ${(await readFile(path)).toString("base64")}`;
  }
  return out;
}

afterAll(removeTempDirs);

describe("copyWorkspace", () => {
  it("copies the whole tree, .git and ignored files included, keeping modes, links and ACLs", async () => {
    const src = await tempDir("kiln-copy-src-");
    await git(src, "init", "-q", "-b", "main");
    await mkdir(join(src, "node_modules", ".bin"), { recursive: true });
    await writeFile(join(src, ".gitignore"), "node_modules/\n");
    await writeFile(join(src, "node_modules", "dep.js"), "module.exports = 1;\n");
    await writeFile(join(src, "run.sh"), "#!/bin/sh\necho hi\n");
    await chmod(join(src, "run.sh"), 0o750);
    await symlink("../dep.js", join(src, "node_modules", ".bin", "dep"));
    await symlink("/etc/passwd", join(src, "outside"));
    await link(join(src, "run.sh"), join(src, "run-hardlink.sh"));
    await execFileAsync("setfacl", ["-m", "u:61000:rwx", join(src, "run.sh")]);
    const dest = join(await tempDir("kiln-copy-dest-"), "workspaces", "att_1");

    const result = await copyWorkspace(src, dest);

    expect(await describeTree(dest)).toEqual(await describeTree(src));
    expect(await readlink(join(dest, "outside"))).toBe("/etc/passwd");
    expect((await stat(join(dest, "run.sh"))).ino).toBe((await stat(join(dest, "run-hardlink.sh"))).ino);
    expect((await execFileAsync("getfacl", ["-cp", join(dest, "run.sh")])).stdout).toContain(
      "user:61000:rwx",
    );
    // The copy method is whatever the filesystem allows; ask it the same question independently.
    const probe = join(src, "run.sh");
    const reflinks = await execFileAsync("cp", ["--reflink=always", probe, join(dest, "..", "probe")]).then(
      () => true,
      () => false,
    );
    expect(result).toEqual({ method: reflinks ? "reflink" : "copy" });
  });

  it("refuses to copy over an existing destination, or to copy something that is not a directory", async () => {
    const src = await tempDir("kiln-copy-src-");
    await writeFile(join(src, "file.txt"), "x\n");
    const dest = await tempDir("kiln-copy-dest-");

    const exists = await copyWorkspace(src, dest).catch((error: unknown) => error);
    const notDir = await copyWorkspace(join(src, "file.txt"), join(dest, "new")).catch(
      (error: unknown) => error,
    );

    expect(exists).toBeInstanceOf(KilnError);
    expect((exists as KilnError).toInfo()).toEqual({
      code: "conflict",
      message: `Cannot copy a workspace to ${dest}: it already exists.`,
      retryable: false,
    });
    expect(notDir).toBeInstanceOf(KilnError);
    expect((notDir as KilnError).message).toBe(
      `Cannot copy ${join(src, "file.txt")}: it is not a directory.`,
    );
  });
});
