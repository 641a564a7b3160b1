// One bare mirror per repository under `<cacheDir>/repos/<sha256(repository)>.git`: cloned with
// `git clone --mirror` the first time (into a temp dir renamed into place, so a half-done clone is
// never taken for a mirror), refreshed with `git fetch --prune` every later time. Updates of one mirror
// are serialized within the process: two fetches into one repository would fight over its ref locks.
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rename, rm, stat } from "node:fs/promises";
import { isAbsolute, join, resolve } from "node:path";
import { KilnError } from "@kiln/protocol";
import { gitOutput, runGit } from "./run-git.ts";

// Keyed by mirror path; each value settles when the latest update of that mirror has finished.
const mirrorUpdates = new Map<string, Promise<unknown>>();

/** How many existing branches an error about a missing branch lists. */
const branchesListed = 20;

/** A local path as an absolute path; URLs (`scheme://…`, `user@host:path`) as they are. */
export function normalizeRepository(repository: string): string {
  const isUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(repository) || /^[^/\s]+@[^/\s:]+:/.test(repository);
  return isUrl || isAbsolute(repository) ? repository : resolve(repository);
}

/** The repository as it may appear in messages and logs: credentials in a URL are hidden. */
export function redactRepository(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, "$1***@");
}

/** Brings the mirror of `repository` up to date (creating it on first use) and returns its path. */
export async function updateMirror(
  repository: string,
  cacheDir: string,
  signal?: AbortSignal,
): Promise<string> {
  const repos = join(cacheDir, "repos");
  const mirror = join(repos, `${createHash("sha256").update(repository).digest("hex")}.git`);
  const previous = mirrorUpdates.get(mirror) ?? Promise.resolve();
  const update = previous.catch(() => {}).then(() => cloneOrFetch(repository, repos, mirror, signal));
  mirrorUpdates.set(mirror, update);
  try {
    await update;
  } finally {
    if (mirrorUpdates.get(mirror) === update) mirrorUpdates.delete(mirror);
  }
  return mirror;
}

async function cloneOrFetch(repository: string, repos: string, mirror: string, signal?: AbortSignal) {
  const shown = redactRepository(repository);
  if (await exists(mirror)) {
    await gitOutput(["fetch", "--prune", "--quiet"], {
      cwd: mirror,
      remote: true,
      code: "environment_failed",
      what: `Could not fetch ${shown}`,
      ...(signal === undefined ? {} : { signal }),
    }).catch((error: unknown) => {
      throw redacted(error);
    });
    return;
  }
  await mkdir(repos, { recursive: true });
  const temp = await mkdtemp(`${mirror}.tmp-`);
  try {
    await gitOutput(["clone", "--mirror", "--quiet", "--", repository, temp], {
      cwd: repos,
      remote: true,
      code: "environment_failed",
      what: `Could not clone ${shown} (is it a git URL the server can reach, or a path to a git repository on the server?)`,
      ...(signal === undefined ? {} : { signal }),
    }).catch((error: unknown) => {
      throw redacted(error);
    });
    // Another Kiln process may have created the mirror meanwhile: then its copy is as good as ours.
    await rename(temp, mirror).catch(async (error: NodeJS.ErrnoException) => {
      if (!(await exists(mirror))) throw error;
    });
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

/** The commit `branch` points at in the mirror; a missing branch is an error listing those that exist. */
export async function resolveBranch(
  mirror: string,
  repository: string,
  branch: string,
  signal?: AbortSignal,
): Promise<string> {
  const withSignal = signal === undefined ? {} : { signal };
  const valid = await runGit(["check-ref-format", `refs/heads/${branch}`], { cwd: mirror, ...withSignal });
  if (branch.startsWith("-") || valid.exitCode !== 0) {
    throw new KilnError("invalid_request", `${JSON.stringify(branch)} is not a valid git branch name.`);
  }
  const found = await runGit(["rev-parse", "--verify", "--quiet", `refs/heads/${branch}^{commit}`], {
    cwd: mirror,
    ...withSignal,
  });
  if (found.exitCode === 0) return found.stdout.toString("utf8").trim();

  const refs = await gitOutput(["for-each-ref", "--format=%(refname:lstrip=2)", "refs/heads/"], {
    cwd: mirror,
    what: "Could not list the repository's branches",
    ...withSignal,
  });
  const branches = refs.split("\n").filter((name) => name !== "");
  const listed = branches.slice(0, branchesListed).join(", ");
  const more = branches.length > branchesListed ? ` and ${branches.length - branchesListed} more` : "";
  const existing = branches.length === 0 ? "it has no branches at all" : `its branches are ${listed}${more}`;
  throw new KilnError(
    "environment_failed",
    `Branch ${JSON.stringify(branch)} does not exist in ${redactRepository(repository)}: ${existing}. ` +
      "Choose one of them, or push the branch first.",
    { details: { branch, branches: branches.slice(0, branchesListed) } },
  );
}

function redacted(error: unknown): unknown {
  if (!(error instanceof KilnError)) return error;
  // Not chained as a cause: the original message may hold the credentials we are hiding.
  return new KilnError(error.code, redactRepository(error.message));
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
