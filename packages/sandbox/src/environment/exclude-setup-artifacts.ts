import { appendFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { gitOutput } from "./run-git.ts";

/** What the setup script left in the checkout. */
export interface SetupArtifacts {
  /** Untracked, not ignored paths (a wholly untracked directory as `dir/`), now in `.git/info/exclude`. */
  excluded: string[];
  /** Paths the setup could not be excluded: names with a newline cannot be written as a pattern. */
  skipped: string[];
  /** Tracked files the setup changed: they will show in every task's diff. */
  changedTracked: string[];
}

/**
 * Adds what the setup script created (and git does not already ignore) to `.git/info/exclude`, so
 * that installed dependencies and build output never appear in a task's diff; and reports tracked
 * files the setup changed, which cannot be hidden that way.
 */
export async function excludeSetupArtifacts(dir: string, signal?: AbortSignal): Promise<SetupArtifacts> {
  const withSignal = signal === undefined ? {} : { signal };
  const untracked = await gitOutput(
    ["ls-files", "-z", "--others", "--exclude-standard", "--directory", "--no-empty-directory"],
    { cwd: dir, what: "Could not list the files the setup script created", ...withSignal },
  );
  const paths = untracked.split("\0").filter((path) => path !== "");
  const excluded = paths.filter((path) => !path.includes("\n"));
  if (excluded.length > 0) {
    await mkdir(join(dir, ".git", "info"), { recursive: true });
    const lines = excluded.map(excludePattern).join("\n");
    await appendFile(
      join(dir, ".git", "info", "exclude"),
      `\n# Created by the environment's setup script (added by Kiln, kept out of task diffs)\n${lines}\n`,
    );
  }
  const changed = await gitOutput(["diff", "--name-only", "-z"], {
    cwd: dir,
    what: "Could not check which tracked files the setup script changed",
    ...withSignal,
  });
  return {
    excluded,
    skipped: paths.filter((path) => path.includes("\n")),
    changedTracked: changed.split("\0").filter((path) => path !== ""),
  };
}

/** A gitignore pattern matching exactly `path` from the root: glob characters and a trailing space escaped. */
export function excludePattern(path: string): string {
  const escaped = path.replace(/[\\*?[]/g, "\\$&").replace(/ $/, "\\ ");
  return `/${escaped}`;
}
