// A real git repository in a fresh temp directory, as the workspace of one benchmarked `kiln exec` run.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/**
 * Creates `git init -b main` with a local user, writes `files` (relative paths → content) and commits
 * them. Returns `{ dir, cleanup }`.
 */
export function createTempRepo(files) {
  const dir = mkdtempSync(join(tmpdir(), "kiln-bench-repo-"));
  const git = (...args) =>
    execFileSync("git", args, { cwd: dir, env: gitEnv(), stdio: ["ignore", "ignore", "pipe"] });
  git("init", "-q", "-b", "main");
  git("config", "user.name", "Kiln Bench");
  git("config", "user.email", "kiln-bench@example.com");
  git("config", "commit.gpgsign", "false");
  for (const [path, content] of Object.entries(files)) {
    const target = join(dir, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
  }
  git("add", "-A");
  git("commit", "-q", "-m", "initial commit");
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The caller's environment without the user's git config or GIT_* variables, so the developer's
 *  machine (hooks, signing, templates) does not change what is measured. */
function gitEnv() {
  const inherited = Object.entries(process.env).filter(([name]) => !name.startsWith("GIT_"));
  return {
    ...Object.fromEntries(inherited),
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
  };
}
