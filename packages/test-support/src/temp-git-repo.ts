import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/** A real git repository in a fresh temporary directory. */
export interface TempGitRepo {
  /** Absolute path of the work tree. */
  dir: string;
  /** Deletes the directory. */
  cleanup(): Promise<void>;
  /** Runs `git <args>` in the repo and resolves with its stdout; rejects with stderr on failure. */
  git(...args: string[]): Promise<string>;
}

/** Options for {@link createTempGitRepo}. */
export interface TempGitRepoOptions {
  /** Message of the initial commit (default `initial commit`). */
  commitMessage?: string;
}

/**
 * Creates a git repository (`git init -b main`, a local user name and email) in a new temp directory,
 * writes `files` (paths relative to the root, folders created as needed) and commits them.
 */
export async function createTempGitRepo(
  files: Record<string, string>,
  options: TempGitRepoOptions = {},
): Promise<TempGitRepo> {
  const dir = await mkdtemp(join(tmpdir(), "kiln-repo-"));
  const git = async (...args: string[]): Promise<string> => {
    try {
      const { stdout } = await execFileAsync("git", args, {
        cwd: dir,
        env: gitEnv(),
        maxBuffer: 64 * 1024 * 1024,
      });
      return stdout;
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr?.trim();
      throw new Error(`git ${args.join(" ")} failed in ${dir}: ${stderr || String(error)}`, { cause: error });
    }
  };
  const cleanup = () => rm(dir, { recursive: true, force: true });

  try {
    await git("init", "-q", "-b", "main");
    await git("config", "user.name", "Kiln Test");
    await git("config", "user.email", "kiln-test@example.com");
    await git("config", "commit.gpgsign", "false");
    for (const [path, content] of Object.entries(files)) {
      const target = join(dir, path);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, content);
    }
    await git("add", "-A");
    await git("commit", "-q", "--allow-empty", "-m", options.commitMessage ?? "initial commit");
  } catch (error) {
    await cleanup();
    throw error;
  }
  return { dir, cleanup, git };
}

/** The caller's environment without the user's git config or an enclosing repository's GIT_* variables
 *  (set when tests run from a git hook), so nothing on the developer's machine changes what a test sees. */
function gitEnv(): NodeJS.ProcessEnv {
  const inherited = Object.entries(process.env).filter(([name]) => !name.startsWith("GIT_"));
  return {
    ...Object.fromEntries(inherited),
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
  };
}
