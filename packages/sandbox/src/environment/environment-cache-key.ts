import { createHash } from "node:crypto";
import { gitOutput } from "./run-git.ts";

/** Lockfiles at the repository root whose contents go into the cache key. */
const lockfilePattern =
  /^(package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml|requirements.*\.txt|poetry\.lock|Pipfile\.lock|uv\.lock|Cargo\.lock|go\.sum|Gemfile\.lock|composer\.lock)$/;

/** What a prepared environment depends on. */
export interface CacheKeyInput {
  repository: string;
  branch: string;
  commit: string;
  setupScript: string;
  env: Record<string, string>;
}

/**
 * The cache key of a prepared environment: sha256 over the commit, the setup script, the environment
 * variables (sorted by name) and the root lockfiles' contents. Also in it: the repository and the
 * branch, because the prepared tree records both (its `origin` remote and its checked-out branch), and
 * a fork shares its commits with the upstream. Secrets are deliberately NOT in it: rotating a token
 * must not throw away every prepared environment.
 */
export async function environmentCacheKey(
  mirror: string,
  input: CacheKeyInput,
  signal?: AbortSignal,
): Promise<string> {
  const lockfiles = await lockfileHashes(mirror, input.commit, signal);
  const env = Object.entries(input.env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const material = JSON.stringify({
    version: 1,
    repository: input.repository,
    branch: input.branch,
    commit: input.commit,
    setupScript: input.setupScript,
    env,
    lockfiles,
  });
  return createHash("sha256").update(material).digest("hex");
}

/**
 * `[path, blob id]` of each lockfile at the root of `commit`. A blob id is git's hash of the file's
 * contents, so it stands for them exactly without reading a large lockfile (`git show`) into memory.
 */
async function lockfileHashes(mirror: string, commit: string, signal?: AbortSignal): Promise<string[][]> {
  const listing = await gitOutput(["ls-tree", "-z", commit], {
    cwd: mirror,
    what: `Could not list the files of commit ${commit}`,
    ...(signal === undefined ? {} : { signal }),
  });
  const hashes: string[][] = [];
  for (const entry of listing.split("\0")) {
    // "<mode> <type> <object id>\t<path>"
    const match = /^\d+ blob ([0-9a-f]+)\t(.+)$/s.exec(entry);
    if (match?.[1] !== undefined && match[2] !== undefined && lockfilePattern.test(match[2])) {
      hashes.push([match[2], match[1]]);
    }
  }
  return hashes;
}
