// Publishing an attempt, in order: check the inputs → make the attempt's commit in a scratch
// repository (commitDiff) → with a forge, find the branch's open pull request (a wrong token or
// repository fails here, before anything is pushed) → push the commit to `refs/heads/<branch>` →
// update or create the pull request → remove the scratch repository.
import { resolve } from "node:path";
import { BranchName, KilnError, type PublishedAttempt } from "@kiln/protocol";
import { commitDiff } from "./commit-diff.ts";
import { findOpenPullRequest, savePullRequest } from "./forge-pull-requests.ts";
import type { ForgeClient, ForgeTarget } from "./forge-request.ts";
import { gitAuthConfig } from "./git-auth-config.ts";
import { createScratchGit, type ScratchGit } from "./scratch-git.ts";

/** What to publish, where. */
export interface PublishAttemptOptions {
  /** A git URL or a local path to a (bare or non-bare) repository. */
  repository: string;
  /** The commit the diff applies to (full hex id). */
  baseCommit: string;
  /** The branch the attempt started from: the pull request's target. */
  baseBranch: string;
  /** The branch to push, e.g. `kiln/task_x-1`. */
  branch: string;
  /** A `git apply`-able diff against `baseCommit` (binary patches allowed). */
  diff: string;
  /** The pull request's title: also the commit's subject. */
  title: string;
  /** The pull request's body: also the commit's body. */
  body: string;
  /** Author and committer (default `Kiln <kiln@localhost>`). */
  author?: { name: string; email: string };
  /** When set, a pull (merge) request is opened or updated, and its token authenticates git over https. */
  forge?: ForgeTarget;
  /** Open the pull request as a draft. */
  draft?: boolean;
  /** A scratch directory the caller owns; a temporary repository is made (and removed) inside it. */
  workDir: string;
  /** The clock (Unix ms): the commit's date and `publishedAt`. */
  now?: () => number;
  /** For the forge's REST API (default: the global fetch). */
  fetch?: typeof fetch;
  /** Timeout of each forge request (default 30 s). */
  forgeTimeoutMs?: number;
}

const DEFAULT_AUTHOR = { name: "Kiln", email: "kiln@localhost" };
const FULL_COMMIT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** Pushes the attempt's diff as one commit on `branch` and, with a forge, opens or updates its pull request. */
export async function publishAttempt(
  options: PublishAttemptOptions,
  signal?: AbortSignal,
): Promise<PublishedAttempt> {
  checkInputs(options);
  const now = options.now ?? Date.now;
  const { forge, branch, baseBranch } = options;
  const repository = isLocalPath(options.repository) ? resolve(options.repository) : options.repository;
  const git = await createScratchGit({
    workDir: options.workDir,
    author: options.author ?? DEFAULT_AUTHOR,
    date: now(),
    config: gitAuthConfig(repository, forge),
    secrets: forge ? [forge.token] : [],
    ...(signal ? { signal } : {}),
  });
  try {
    const commit = await commitDiff(git, {
      repository,
      baseCommit: options.baseCommit,
      baseBranch,
      diff: options.diff,
      message: commitMessage(options),
    });
    const client: ForgeClient | undefined = forge && {
      forge,
      fetch: options.fetch ?? fetch,
      timeoutMs: options.forgeTimeoutMs ?? 30_000,
      ...(signal ? { signal } : {}),
    };
    const existing = client && (await findOpenPullRequest(client, branch));
    await pushBranch(git, repository, commit, options);
    const published: PublishedAttempt = { branch, commit, publishedAt: now() };
    if (client === undefined) return published;
    const spec = {
      branch,
      baseBranch,
      title: options.title,
      body: options.body,
      ...(options.draft === undefined ? {} : { draft: options.draft }),
    };
    const pullRequest = await savePullRequest(client, spec, existing).catch((error: unknown) => {
      if (!(error instanceof KilnError)) throw error;
      // Say what did happen, so a retry is understood to only redo the pull request.
      throw new KilnError(error.code, `pushed ${branch} (${commit.slice(0, 12)}), but ${error.message}`, {
        details: { ...error.details, branch, commit },
        retryable: error.retryable,
        cause: error,
      });
    });
    return { ...published, pullRequest };
  } finally {
    await git.dispose();
  }
}

async function pushBranch(
  git: ScratchGit,
  repository: string,
  commit: string,
  options: PublishAttemptOptions,
): Promise<void> {
  // A kiln/ branch belongs to Kiln: re-publishing replaces it with the attempt's new commit (plain
  // force; a lease against a value read just before would only guard a milliseconds-wide race and
  // cost a round trip). Any other branch is only fast-forwarded, so a person's commits are never lost.
  const { branch } = options;
  const force = branch.startsWith("kiln/") && branch !== options.baseBranch;
  const refspec = `${force ? "+" : ""}${commit}:refs/heads/${branch}`;
  const pushed = await git.run(["push", "--porcelain", "--end-of-options", repository, refspec]);
  if (pushed.code === 0) return;
  // The porcelain lines on stdout say why a ref was rejected; stderr only that some were.
  const output = `${pushed.stderr.trim()}\n${pushed.stdout.trim()}`;
  const hint =
    !force && /\[rejected\]|non-fast-forward|fetch first/.test(output)
      ? ` (${branch} has commits this attempt does not have, and Kiln force-updates only kiln/ branches: publish to a new branch)`
      : "";
  throw git.failure(
    { ...pushed, stderr: output },
    `could not push ${branch} to ${git.shown(repository)}${hint}`,
  );
}

function commitMessage(options: PublishAttemptOptions): string {
  const body = options.body.trim();
  return `${options.title.trim()}${body ? `\n\n${body}` : ""}\n`;
}

function checkInputs(options: PublishAttemptOptions): void {
  if (!FULL_COMMIT_ID.test(options.baseCommit)) {
    throw new KilnError(
      "invalid_request",
      `the base commit must be a full commit id (got "${options.baseCommit}")`,
    );
  }
  for (const [field, name] of [
    ["branch", options.branch],
    ["baseBranch", options.baseBranch],
  ] as const) {
    if (!BranchName.safeParse(name).success)
      throw new KilnError("invalid_request", `"${field}": "${name}" is not a valid git branch name`);
  }
  if (options.title.trim() === "") throw new KilnError("invalid_request", "the pull request needs a title");
  if (options.diff.trim() === "") {
    throw new KilnError("invalid_request", "the attempt changed nothing: there is no diff to publish");
  }
}

/** A repository string is a URL (`scheme://…`) or scp-like (`host:path`, a colon before any slash) or a path. */
function isLocalPath(repository: string): boolean {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(repository)) return false;
  const colon = repository.indexOf(":");
  const slash = repository.indexOf("/");
  return colon === -1 || (slash !== -1 && slash < colon);
}
