// A temporary bare repository inside the caller's work dir, and git bound to it: the isolated
// environment of runGit, the author's identity and date, auth config, and failures turned into
// KilnErrors whose messages never carry a secret.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { KilnError } from "@kiln/protocol";
import { redact } from "./redact.ts";
import { type GitResult, runGit, stderrTail } from "./run-git.ts";

/** How a failed git command is reported. */
export interface MustOptions {
  /** What could not be done, e.g. `could not push kiln/x to /srv/repo.git`. */
  what: string;
  code?: "patch_invalid" | "publish_failed";
  input?: string;
}

/** Git in a scratch repository. */
export interface ScratchGit {
  /** Runs git; the caller reads the exit code. */
  run(args: string[], input?: string): Promise<GitResult>;
  /** Runs git and resolves with its stdout; throws a KilnError (default `publish_failed`) with git's stderr tail. */
  must(args: string[], options: MustOptions): Promise<string>;
  /** The KilnError for a failed command: `what`, git's stderr tail, and a hint when credentials were refused. */
  failure(result: GitResult, what: string, code?: MustOptions["code"]): KilnError;
  /** `text` with URL credentials and secrets removed, for messages. */
  shown(text: string): string;
  /** Removes the scratch repository. */
  dispose(): Promise<void>;
}

/** Who commits, and when (Unix ms). */
export interface ScratchGitOptions {
  workDir: string;
  author: { name: string; email: string };
  date: number;
  /** Config pairs for every command (auth headers). */
  config: ReadonlyArray<readonly [string, string]>;
  /** Values that must never appear in a message. */
  secrets: readonly string[];
  signal?: AbortSignal;
}

const AUTH_FAILURE =
  /could not read Username|Authentication failed|HTTP 40[13]|Permission denied \(publickey/;

/** Creates the scratch repository (`git init --bare`) and returns git bound to it. */
export async function createScratchGit(options: ScratchGitOptions): Promise<ScratchGit> {
  const scratch = await mkdtemp(join(options.workDir, "publish-"));
  const home = join(scratch, "home");
  const gitDir = join(scratch, "repo.git");
  const { author, secrets } = options;
  const date = `@${Math.floor(options.date / 1000)} +0000`;
  const env = {
    GIT_INDEX_FILE: join(scratch, "index"),
    GIT_AUTHOR_NAME: author.name,
    GIT_AUTHOR_EMAIL: author.email,
    GIT_AUTHOR_DATE: date,
    GIT_COMMITTER_NAME: author.name,
    GIT_COMMITTER_EMAIL: author.email,
    GIT_COMMITTER_DATE: date,
  };
  const run = (args: string[], input?: string): Promise<GitResult> =>
    runGit(args, {
      cwd: gitDir,
      home,
      env,
      config: options.config,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(input === undefined ? {} : { input }),
    });
  const shown = (text: string) => redact(text, secrets);
  const failure = (
    result: GitResult,
    what: string,
    code: MustOptions["code"] = "publish_failed",
  ): KilnError => {
    const said = stderrTail(result.stderr) || `git exited with ${result.code}`;
    const hint = !AUTH_FAILURE.test(result.stderr)
      ? ""
      : options.config.length > 0
        ? " (the repository refused the forge token: check the environment's FORGE_TOKEN and that it may push)"
        : " (the repository wants credentials: give the environment a forge token for https, or the server an ssh key)";
    return new KilnError(code, shown(`${what}: ${said}${hint}`), { details: { exitCode: result.code } });
  };
  const must = async (args: string[], must: MustOptions): Promise<string> => {
    const result = await run(args, must.input);
    if (result.code === 0) return result.stdout;
    throw failure(result, must.what, must.code);
  };
  const dispose = () => rm(scratch, { recursive: true, force: true });

  try {
    await mkdir(home);
    await mkdir(gitDir);
    await must(["init", "-q", "--bare"], { what: "could not create a scratch repository" });
  } catch (error) {
    await dispose();
    throw error;
  }
  return { run, must, failure, shown, dispose };
}
