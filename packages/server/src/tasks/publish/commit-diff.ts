// The attempt's commit, made in a scratch bare repository: fetch the base commit (shallow; else the
// base branch in full, for servers that refuse a commit that is not a branch tip) → read its tree
// into an index → `git apply --cached` the diff → write the tree → commit it on the base commit.
//
// The diff goes to an index, never to a checkout: the commit is the one `apply --index` in a worktree
// would make, without writing the repository's files to disk, and a hostile patch cannot touch
// anything but the index.
import { KilnError } from "@kiln/protocol";
import type { ScratchGit } from "./scratch-git.ts";

/** What to commit. */
export interface CommitDiffOptions {
  /** Absolute path or URL. */
  repository: string;
  baseCommit: string;
  baseBranch: string;
  diff: string;
  /** The full commit message. */
  message: string;
}

/** Makes the attempt's commit in `git`'s repository and returns its id. */
export async function commitDiff(git: ScratchGit, options: CommitDiffOptions): Promise<string> {
  const { repository, baseCommit, baseBranch } = options;
  const shallow = await git.run([
    "fetch",
    "-q",
    "--no-tags",
    "--depth",
    "1",
    "--end-of-options",
    repository,
    baseCommit,
  ]);
  if (shallow.code !== 0) {
    // Protocol v0 servers without uploadpack.allow*SHA1InWant refuse a commit that is not a ref's tip.
    const branchRef = `+refs/heads/${baseBranch}:refs/kiln/base`;
    await git.must(["fetch", "-q", "--no-tags", "--end-of-options", repository, branchRef], {
      what: `could not fetch ${baseBranch} from ${git.shown(repository)}`,
    });
  }
  if ((await git.run(["cat-file", "-e", `${baseCommit}^{commit}`])).code !== 0) {
    throw new KilnError(
      "publish_failed",
      `the base commit ${baseCommit} is not in ${git.shown(repository)} (it is not on ${baseBranch}): was the branch rewritten?`,
    );
  }
  await git.must(["read-tree", baseCommit], { what: "could not read the base tree" });
  await git.must(["apply", "--cached", "--whitespace=nowarn", "-"], {
    input: options.diff,
    code: "patch_invalid",
    what: `the attempt's diff does not apply to ${baseCommit.slice(0, 12)}`,
  });
  const tree = (await git.must(["write-tree"], { what: "could not write the tree" })).trim();
  const commit = await git.must(["commit-tree", tree, "-p", baseCommit, "-F", "-"], {
    input: options.message,
    what: "could not commit",
  });
  return commit.trim();
}
