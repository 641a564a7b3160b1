import { describe, expect, it } from "vitest";
import { isReadOnlyCommand } from "./is-read-only-command.ts";

describe("isReadOnlyCommand", () => {
  it.each([
    "ls",
    "ls -la src",
    "  cat README.md  ",
    "head -n 20 a.txt",
    "tail -n 5 log.txt",
    "wc -l a.txt",
    "pwd",
    "echo hello",
    "grep -rn TODO src",
    "rg -n 'createServer' packages",
    "which node",
    "file a.png",
    "stat a.txt",
    "tree src",
    "du -sh .",
    "nl a.txt",
    "true",
    "find . -name '*.ts' -type f",
    "sed -n 1,20p a.txt",
    "git status",
    "git status --short",
    "git diff HEAD~1",
    "git log --oneline -5",
    "git show HEAD:a.txt",
    "git branch",
    "git rev-parse HEAD",
    "git ls-files",
    "git blame a.txt",
  ])("counts `%s` as read-only", (cmd) => {
    expect(isReadOnlyCommand(cmd)).toBe(true);
  });

  it.each([
    "",
    "rm -rf build",
    "touch a.txt",
    "npm test",
    "mv a b",
    "cat a.txt > b.txt",
    "cat a.txt >> b.txt",
    "cat < a.txt",
    "ls | wc -l",
    "ls; rm a",
    "ls && rm a",
    "ls || rm a",
    "sleep 10 &",
    "echo $(rm a)",
    "echo `rm a`",
    "echo $HOME",
    "ls\nrm a",
    "cat a\\ b",
    "{ ls; }",
    "find . -delete",
    "find . -name x -exec rm {} +",
    "find . -execdir cat x",
    "find . -ok rm",
    "find . -fprint out.txt",
    "find . -fls out.txt",
    "sed -i s/a/b/ a.txt",
    "sed -n -i s/a/b/ a.txt",
    "sed s/a/b/ a.txt",
    "sed -n 'w out.txt' a.txt",
    "git commit -m wip",
    "git push",
    "git checkout main",
    "git reset --hard",
    "git -C other status",
    "git diff --output out.patch",
    "FOO=1 ls",
    "python -c 'print(1)'",
  ])("counts `%s` as mutating", (cmd) => {
    expect(isReadOnlyCommand(cmd)).toBe(false);
  });

  // BUG: `git branch` is allowed with any arguments, so creating, renaming or deleting a branch counts as
  // read-only and, under the `untrusted` approval policy, runs without asking.
  it("counts git branch with a branch name (create, delete) as mutating", () => {
    expect(
      ["git branch feature", "git branch -D main", "git branch -m old new"].map(isReadOnlyCommand),
    ).toEqual([false, false, false]);
  });

  // BUG: only the `--output FILE` spelling is caught; `--output=FILE` writes FILE and counts as read-only.
  it("counts git diff/log/show --output=FILE as mutating", () => {
    expect(["git diff --output=x.patch", "git log -p --output=x.log"].map(isReadOnlyCommand)).toEqual([
      false,
      false,
    ]);
  });

  // BUG: `rg --pre CMD` runs CMD on every searched file (Codex rejects --pre and --hostname-bin).
  it("counts rg --pre (runs a program on every file) as mutating", () => {
    expect(["rg --pre rm x", "rg --pre=rm x"].map(isReadOnlyCommand)).toEqual([false, false]);
  });

  // BUG: GNU sed's `e` command runs a shell command; `sed -n` scripts are only checked for `w` and -i.
  it("counts sed -n with an e command (runs a shell command) as mutating", () => {
    expect(isReadOnlyCommand("sed -n '1e rm -rf src' a.txt")).toBe(false);
  });

  // BUG: `tree -o FILE` writes its listing to FILE.
  it("counts tree -o FILE as mutating", () => {
    expect(isReadOnlyCommand("tree -o listing.txt")).toBe(false);
  });
});
