import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  symlink,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { KilnError } from "@kiln/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { applyPatch } from "./apply-patch.ts";
import { APPLY_PATCH_DESCRIPTION } from "./description.ts";
import { APPLY_PATCH_LARK_GRAMMAR } from "./grammar.ts";
import { parsePatch } from "./parse-patch.ts";
import { seekSequence } from "./seek-sequence.ts";

/** A patch from its body lines. */
const patch = (...lines: string[]) => ["*** Begin Patch", ...lines, "*** End Patch", ""].join("\n");

/** What a call threw, as `{ code, message }`. */
async function failure(run: () => unknown): Promise<{ code: string; message: string }> {
  try {
    await run();
  } catch (error) {
    if (error instanceof KilnError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error("expected an error, but the call succeeded");
}

let root: string;
let workspace: string;
let outside: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), "kiln-apply-patch-"));
  workspace = path.join(root, "workspace");
  outside = path.join(root, "outside");
  await mkdir(workspace);
  await mkdir(outside);
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Every file, directory and link under `directory`: the whole state a patch could change. */
async function snapshot(directory: string): Promise<Record<string, string>> {
  const state: Record<string, string> = {};
  for (const entry of await readdir(directory, { recursive: true, withFileTypes: true })) {
    const absolute = path.join(entry.parentPath, entry.name);
    const relative = path.relative(directory, absolute);
    if (entry.isSymbolicLink()) state[relative] = `-> ${await readlink(absolute)}`;
    else if (entry.isDirectory()) state[relative] = "<dir>";
    else state[relative] = await readFile(absolute, "utf8");
  }
  return Object.fromEntries(Object.entries(state).sort(([a], [b]) => a.localeCompare(b)));
}

async function writeFiles(directory: string, files: Record<string, string>): Promise<void> {
  for (const [relative, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(directory, relative)), { recursive: true });
    await writeFile(path.join(directory, relative), content);
  }
}

describe("parsePatch", () => {
  it("parses add, delete and update hunks with a move, a context line and an end-of-file marker", () => {
    const parsed = parsePatch(
      patch(
        "*** Add File: src/new.ts",
        "+export {};",
        "+",
        "*** Delete File: old.txt",
        "*** Update File: src/app.ts",
        "*** Move to: src/main.ts",
        "@@ function greet() {",
        "-  return 'hi';",
        "+  return 'hello';",
        " }",
        "@@",
        " last",
        "+after",
        "*** End of File",
      ),
    );

    expect(parsed).toEqual({
      hunks: [
        { type: "add", path: "src/new.ts", contents: "export {};\n\n" },
        { type: "delete", path: "old.txt" },
        {
          type: "update",
          path: "src/app.ts",
          movePath: "src/main.ts",
          chunks: [
            {
              changeContext: "function greet() {",
              oldLines: ["  return 'hi';", "}"],
              newLines: ["  return 'hello';", "}"],
              isEndOfFile: false,
            },
            { oldLines: ["last"], newLines: ["last", "after"], isEndOfFile: true },
          ],
        },
      ],
    });
  });

  it("accepts an update whose first chunk has no @@ line", () => {
    expect(parsePatch(patch("*** Update File: a.py", " import os", "+import sys"))).toEqual({
      hunks: [
        {
          type: "update",
          path: "a.py",
          chunks: [{ oldLines: ["import os"], newLines: ["import os", "import sys"], isEndOfFile: false }],
        },
      ],
    });
  });

  it("accepts a patch wrapped in a heredoc, quoted or not", () => {
    const body = patch("*** Delete File: gone.txt");
    const expected = { hunks: [{ type: "delete", path: "gone.txt" }] };
    for (const opener of ["<<'EOF'", "<<EOF", '<<"EOF"']) {
      expect(parsePatch(`${opener}\n${body}EOF\n`)).toEqual(expected);
    }
  });

  it("accepts CRLF line endings and blank lines around the patch", () => {
    const text = `\n\n${patch("*** Add File: a.txt", "+x").replaceAll("\n", "\r\n")}\n\n`;
    expect(parsePatch(text)).toEqual({ hunks: [{ type: "add", path: "a.txt", contents: "x\n" }] });
  });

  it("rejects text that does not start with the begin marker", async () => {
    expect(await failure(() => parsePatch("*** Add File: a.txt\n+x\n*** End Patch"))).toEqual({
      code: "patch_invalid",
      message: "Invalid patch: the first line of the patch must be '*** Begin Patch' (line 1).",
    });
  });

  it("rejects a patch without the end marker", async () => {
    expect(await failure(() => parsePatch("*** Begin Patch\n*** Add File: a.txt\n+x\n"))).toEqual({
      code: "patch_invalid",
      message: "Invalid patch: the last line of the patch must be '*** End Patch' (line 3).",
    });
  });

  it("rejects a heredoc with mismatched quotes", async () => {
    expect(await failure(() => parsePatch(`<<"EOF'\n${patch("*** Delete File: a")}EOF\n`))).toEqual({
      code: "patch_invalid",
      message: "Invalid patch: the first line of the patch must be '*** Begin Patch' (line 1).",
    });
  });

  it("rejects an empty patch and an empty text", async () => {
    expect(await failure(() => parsePatch(patch()))).toEqual({
      code: "patch_invalid",
      message:
        "Invalid patch: it contains no file operations, so nothing was changed. Add at least one '*** Add File:', '*** Delete File:' or '*** Update File:' section between the markers.",
    });
    expect(await failure(() => parsePatch("  \n"))).toEqual({
      code: "patch_invalid",
      message:
        "Invalid patch: the patch is empty. It must start with '*** Begin Patch' and end with '*** End Patch'.",
    });
  });

  it("rejects an unknown hunk header and names its line", async () => {
    expect(await failure(() => parsePatch(patch("*** Delete File: a", "*** Rename File: b")))).toEqual({
      code: "patch_invalid",
      message:
        "Invalid patch hunk on line 3: '*** Rename File: b' is not a valid hunk header. Valid hunk headers: '*** Add File: {path}', '*** Delete File: {path}', '*** Update File: {path}'.",
    });
  });

  it("rejects an update hunk without chunks", async () => {
    expect(
      await failure(() => parsePatch(patch("*** Update File: a.txt", "*** Delete File: b.txt"))),
    ).toEqual({
      code: "patch_invalid",
      message:
        "Invalid patch hunk on line 2: Update file hunk for path 'a.txt' is empty. Add at least one '@@' chunk of ' ', '-' and '+' lines, or use '*** Delete File:' to remove the file.",
    });
  });

  it("rejects a chunk line without a diff prefix", async () => {
    expect(await failure(() => parsePatch(patch("*** Update File: a.txt", "@@", "old")))).toEqual({
      code: "patch_invalid",
      message:
        "Invalid patch hunk on line 4: Unexpected line found in update hunk: 'old'. Every line should start with ' ' (context line), '+' (added line), or '-' (removed line).",
    });
  });

  it("rejects a second chunk without its @@ line", async () => {
    expect(
      await failure(() =>
        parsePatch(patch("*** Update File: a.txt", "@@", "-a", "+b", "*** End of File", "-c")),
      ),
    ).toEqual({
      code: "patch_invalid",
      message:
        "Invalid patch hunk on line 7: Expected update hunk to start with a @@ context marker, got: '-c'.",
    });
  });

  it("rejects a chunk with no lines before the end-of-file marker", async () => {
    expect(await failure(() => parsePatch(patch("*** Update File: a.txt", "@@", "*** End of File")))).toEqual(
      {
        code: "patch_invalid",
        message: "Invalid patch hunk on line 4: Update hunk does not contain any lines.",
      },
    );
  });
});

describe("seekSequence", () => {
  const lines = ["alpha  ", "  beta", "“quoted” — dash", "beta"];

  it("finds an exact match first, even after a lenient one", () => {
    expect(seekSequence(lines, ["beta"], 0, false)).toBe(3);
  });

  it("ignores trailing whitespace", () => {
    expect(seekSequence(lines, ["alpha", "  beta"], 0, false)).toBe(0);
  });

  it("ignores leading and trailing whitespace", () => {
    expect(seekSequence(lines, ["alpha", "beta", '"quoted" - dash'], 0, false)).toBe(0);
  });

  it("matches typographic quotes, dashes and spaces against ASCII", () => {
    expect(seekSequence(["a\u00a0=\u00a0‘x’ – y"], ["a = 'x' - y"], 0, false)).toBe(0);
  });

  it("searches from the start index", () => {
    expect(seekSequence(["x", "y", "x"], ["x"], 1, false)).toBe(2);
  });

  it("tries the end of the file first for an end-of-file chunk", () => {
    expect(seekSequence(["x", "y", "x"], ["x"], 0, true)).toBe(2);
    expect(seekSequence(["x", "y", "z"], ["x"], 0, true)).toBe(0);
  });

  it("matches an empty pattern at the start index and never a pattern longer than the file", () => {
    expect(seekSequence(["x"], [], 1, false)).toBe(1);
    expect(seekSequence(["x"], ["x", "y"], 0, false)).toBeUndefined();
  });
});

describe("applyPatch", () => {
  it("adds, updates, moves and deletes files, and reports each change with its diff", async () => {
    await writeFiles(workspace, { "edit.txt": "one\ntwo\n", "old/name.txt": "from\n", "gone.txt": "bye\n" });

    const result = await applyPatch(
      patch(
        "*** Add File: nested/new.txt",
        "+hello",
        "*** Update File: edit.txt",
        "@@",
        " one",
        "-two",
        "+2",
        "*** Update File: old/name.txt",
        "*** Move to: renamed/name.txt",
        "@@",
        "-from",
        "+to",
        "*** Delete File: gone.txt",
      ),
      { cwd: workspace },
    );

    expect(result).toEqual({
      changes: [
        {
          path: "nested/new.txt",
          kind: "add",
          diff: "--- /dev/null\n+++ b/nested/new.txt\n@@ -0,0 +1,1 @@\n+hello\n",
        },
        {
          path: "edit.txt",
          kind: "update",
          diff: "--- a/edit.txt\n+++ b/edit.txt\n@@ -1,2 +1,2 @@\n one\n-two\n+2\n",
        },
        {
          path: "old/name.txt",
          kind: "update",
          movePath: "renamed/name.txt",
          diff: "--- a/old/name.txt\n+++ b/renamed/name.txt\n@@ -1,1 +1,1 @@\n-from\n+to\n",
        },
        { path: "gone.txt", kind: "delete", diff: "--- a/gone.txt\n+++ /dev/null\n@@ -1,1 +0,0 @@\n-bye\n" },
      ],
      summary:
        "Success. Updated the following files:\nA nested/new.txt\nM edit.txt\nM renamed/name.txt\nD gone.txt\n",
    });
    expect(await snapshot(workspace)).toEqual({
      "edit.txt": "one\n2\n",
      nested: "<dir>",
      "nested/new.txt": "hello\n",
      old: "<dir>",
      renamed: "<dir>",
      "renamed/name.txt": "to\n",
    });
  });

  it("matches context that differs in whitespace and typographic punctuation", async () => {
    await writeFiles(workspace, { "quote.py": "def f():\n    return “hi” — ok   \n" });

    await applyPatch(
      patch("*** Update File: quote.py", "@@ def f():", '-return "hi" - ok', '+    return "hello"'),
      {
        cwd: workspace,
      },
    );

    expect(await readFile(path.join(workspace, "quote.py"), "utf8")).toBe('def f():\n    return "hello"\n');
  });

  it("finds chunks after their @@ context line and inserts a pure addition right after it", async () => {
    await writeFiles(workspace, { "a.py": "class A:\n    x = 1\nclass B:\n    x = 1\n" });

    // Chunks must follow file order: `class A:` comes before the previous chunk, so it is not found.
    const error = await failure(() =>
      applyPatch(
        patch(
          "*** Update File: a.py",
          "@@ class B:",
          "-    x = 1",
          "+    x = 2",
          "@@ class A:",
          "+    y = 0",
        ),
        { cwd: workspace },
      ),
    );
    expect(error).toEqual({
      code: "patch_invalid",
      message:
        "Failed to find context 'class A:' in a.py. Re-read the file and use a line that exists after the previous chunk.",
    });
    expect(await readFile(path.join(workspace, "a.py"), "utf8")).toBe(
      "class A:\n    x = 1\nclass B:\n    x = 1\n",
    );

    await applyPatch(
      patch("*** Update File: a.py", "@@ class A:", "+    y = 0", "@@ class B:", "-    x = 1", "+    x = 2"),
      { cwd: workspace },
    );
    expect(await readFile(path.join(workspace, "a.py"), "utf8")).toBe(
      "class A:\n    y = 0\n    x = 1\nclass B:\n    x = 2\n",
    );
  });

  it("ends an updated file with a newline even when the original had none, and keeps trailing blank lines", async () => {
    await writeFiles(workspace, { "no-newline.txt": "a\nb", "blank-end.txt": "a\nb\n\n" });

    await applyPatch(
      patch(
        "*** Update File: no-newline.txt",
        "@@",
        "-b",
        "+B",
        "*** Update File: blank-end.txt",
        "@@",
        "-a",
        "+A",
      ),
      { cwd: workspace },
    );

    expect(await snapshot(workspace)).toEqual({ "blank-end.txt": "A\nb\n\n", "no-newline.txt": "a\nB\n" });
  });

  it("keeps CRLF line endings and the file's permissions", async () => {
    await writeFiles(workspace, { "run.sh": "#!/bin/sh\r\necho hi\r\n" });
    await chmod(path.join(workspace, "run.sh"), 0o755);

    await applyPatch(
      patch("*** Update File: run.sh", "*** Move to: bin/run.sh", "@@", "-echo hi", "+echo hello"),
      {
        cwd: workspace,
      },
    );

    expect(await readFile(path.join(workspace, "bin/run.sh"), "utf8")).toBe("#!/bin/sh\r\necho hello\r\n");
    expect((await stat(path.join(workspace, "bin/run.sh"))).mode & 0o777).toBe(0o755);
  });

  it("edits the file behind a symbolic link inside the workspace and keeps the link", async () => {
    await writeFiles(workspace, { "real.txt": "a\n" });
    await symlink("real.txt", path.join(workspace, "alias.txt"));

    await applyPatch(patch("*** Update File: alias.txt", "@@", "-a", "+b"), { cwd: workspace });

    expect(await snapshot(workspace)).toEqual({ "alias.txt": "-> real.txt", "real.txt": "b\n" });
  });

  it("changes nothing when a hunk does not match, even after hunks that did", async () => {
    await writeFiles(workspace, { "a.txt": "a\n", "b.txt": "b\n" });
    const before = await snapshot(workspace);

    const error = await failure(() =>
      applyPatch(
        patch(
          "*** Add File: created/new.txt",
          "+new",
          "*** Update File: a.txt",
          "@@",
          "-a",
          "+A",
          "*** Delete File: b.txt",
          "*** Update File: b.txt",
          "@@",
          "-b",
          "+B",
        ),
        { cwd: workspace },
      ),
    );

    expect(error).toEqual({
      code: "patch_invalid",
      message: "Failed to update b.txt: file not found. Use '*** Add File:' to create a new file.",
    });
    expect(await snapshot(workspace)).toEqual(before);
  });

  it("rolls back every write when a later write fails because a target's parent is a file", async () => {
    await writeFiles(workspace, { "a.txt": "a\n", "b.txt": "b\n", "c.txt": "c\n", blocker: "i am a file\n" });
    await chmod(path.join(workspace, "a.txt"), 0o600);
    const before = await snapshot(workspace);

    const error = await failure(() =>
      applyPatch(
        patch(
          "*** Update File: a.txt",
          "@@",
          "-a",
          "+A",
          "*** Add File: deep/er/new.txt",
          "+new",
          "*** Delete File: c.txt",
          "*** Update File: b.txt",
          "*** Move to: moved/b.txt",
          "@@",
          "-b",
          "+B",
          "*** Add File: blocker/child.txt",
          "+child",
        ),
        { cwd: workspace },
      ),
    );

    expect(error.code).toBe("tool_error");
    expect(error.message).toMatch(
      /^Failed to write blocker\/child\.txt: ENOTDIR: .* No files were changed: everything already written was restored\.$/,
    );
    expect(await snapshot(workspace)).toEqual(before);
    expect((await stat(path.join(workspace, "a.txt"))).mode & 0o777).toBe(0o600);
  });

  it("refuses an absolute path and changes nothing", async () => {
    const target = path.join(outside, "abs.txt");

    const error = await failure(() =>
      applyPatch(patch("*** Add File: ok.txt", "+ok", `*** Add File: ${target}`, "+x"), { cwd: workspace }),
    );

    expect(error).toEqual({
      code: "path_escape",
      message: `refusing absolute path: ${target}. Patch paths must be relative to the workspace (${workspace}).`,
    });
    expect(await snapshot(root)).toEqual({ outside: "<dir>", workspace: "<dir>" });
  });

  it("refuses a path that climbs out of the workspace and changes nothing", async () => {
    await writeFiles(outside, { "x.txt": "outside\n" });

    for (const hunk of [
      ["*** Add File: ../outside/new.txt", "+x"],
      ["*** Delete File: ../outside/x.txt"],
      ["*** Update File: ../outside/x.txt", "@@", "-outside", "+owned"],
      ["*** Update File: ok.txt", "*** Move to: ../outside/x.txt", "@@", "-ok", "+owned"],
    ]) {
      await writeFiles(workspace, { "ok.txt": "ok\n" });
      const error = await failure(() =>
        applyPatch(patch("*** Add File: first.txt", "+first", ...hunk), { cwd: workspace }),
      );

      expect(error.code).toBe("path_escape");
      expect(error.message).toMatch(/^refusing to write outside the workspace: \.\.\/outside\/(new|x)\.txt$/);
      expect(await snapshot(root)).toEqual({
        outside: "<dir>",
        "outside/x.txt": "outside\n",
        workspace: "<dir>",
        "workspace/ok.txt": "ok\n",
      });
    }
  });

  it("refuses to add or update through a symbolic link to a directory outside the workspace", async () => {
    await writeFiles(outside, { "existing.txt": "secret\n" });
    await symlink(outside, path.join(workspace, "link"));
    const before = await snapshot(root);

    const added = await failure(() =>
      applyPatch(patch("*** Add File: link/new.txt", "+x"), { cwd: workspace }),
    );
    const updated = await failure(() =>
      applyPatch(patch("*** Update File: link/existing.txt", "@@", "-secret", "+owned"), { cwd: workspace }),
    );

    expect(added).toEqual({
      code: "path_escape",
      message: `refusing to write outside the workspace: link/new.txt (a symbolic link leads to ${path.join(outside, "new.txt")})`,
    });
    expect(updated).toEqual({
      code: "path_escape",
      message: `refusing to write outside the workspace: link/existing.txt (a symbolic link leads to ${path.join(outside, "existing.txt")})`,
    });
    expect(await snapshot(root)).toEqual(before);
  });

  it("refuses a target that is itself a symbolic link to a file outside the workspace", async () => {
    await writeFiles(outside, { "secret.txt": "secret\n" });
    await symlink(path.join(outside, "secret.txt"), path.join(workspace, "innocent.txt"));
    const before = await snapshot(root);

    for (const hunk of [
      ["*** Add File: innocent.txt", "+owned"],
      ["*** Update File: innocent.txt", "@@", "-secret", "+owned"],
      ["*** Delete File: innocent.txt"],
    ]) {
      const error = await failure(() => applyPatch(patch(...hunk), { cwd: workspace }));
      expect(error.code).toBe("path_escape");
      expect(error.message).toMatch(
        /^refusing to write outside the workspace: innocent\.txt \(a symbolic link leads to /,
      );
    }
    expect(await snapshot(root)).toEqual(before);
    expect((await lstat(path.join(workspace, "innocent.txt"))).isSymbolicLink()).toBe(true);
  });

  it("refuses a dangling symbolic link, which writing would follow", async () => {
    await symlink(path.join(outside, "missing-dir"), path.join(workspace, "dangling"));

    const error = await failure(() =>
      applyPatch(patch("*** Add File: dangling/x.txt", "+x"), { cwd: workspace }),
    );

    expect(error.code).toBe("path_escape");
    expect(await snapshot(outside)).toEqual({});
  });

  it("writes into an extra writable root outside the workspace", async () => {
    const result = await applyPatch(patch("*** Add File: ../outside/shared.txt", "+shared"), {
      cwd: workspace,
      writableRoots: [workspace, outside],
    });

    expect(result.summary).toBe("Success. Updated the following files:\nA ../outside/shared.txt\n");
    expect(await snapshot(outside)).toEqual({ "shared.txt": "shared\n" });
  });

  it("does nothing when aborted before writing", async () => {
    const controller = new AbortController();
    controller.abort(new Error("turn interrupted"));

    await expect(
      applyPatch(patch("*** Add File: a.txt", "+a"), { cwd: workspace, signal: controller.signal }),
    ).rejects.toThrow("turn interrupted");
    expect(await snapshot(workspace)).toEqual({});
  });
});

describe("the apply_patch prompt and grammar", () => {
  it("keeps description.md and APPLY_PATCH_DESCRIPTION identical", async () => {
    const markdown = await readFile(new URL("./description.md", import.meta.url), "utf8");
    expect(APPLY_PATCH_DESCRIPTION).toBe(markdown);
  });

  it("describes every marker the grammar accepts", () => {
    for (const marker of [
      "*** Begin Patch",
      "*** End Patch",
      "*** Add File: ",
      "*** Delete File: ",
      "*** Update File: ",
      "*** Move to: ",
      "*** End of File",
    ]) {
      expect(APPLY_PATCH_LARK_GRAMMAR).toContain(`"${marker}"`);
      expect(APPLY_PATCH_DESCRIPTION).toContain(marker.trim());
    }
  });
});
