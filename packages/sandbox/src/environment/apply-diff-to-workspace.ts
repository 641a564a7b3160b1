import { realpath } from "node:fs/promises";
import { KilnError } from "@kiln/protocol";
import { type RunGitOptions, runGit } from "./run-git.ts";

const applyOptions = ["apply", "--whitespace=nowarn"];

/**
 * Applies a unified (git, binary-capable) diff to the work tree at `dir`, e.g. a task's pre-apply
 * patch. All or nothing: a patch that does not apply cleanly throws `patch_invalid` with git's
 * reason and leaves the tree as it was. git refuses paths outside the tree and paths through symlinks.
 */
export async function applyDiffToWorkspace(
  dir: string,
  diff: string,
  options: { signal?: AbortSignal } = {},
): Promise<void> {
  if (diff.trim() === "") return;
  const root = await realpath(dir).catch(() => {
    throw new KilnError("invalid_request", `Cannot apply a patch to ${dir}: it does not exist.`);
  });
  const git: RunGitOptions = {
    cwd: root,
    input: diff,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  };
  // `git apply` is atomic on its own; checking first keeps "does not apply" apart from a failure
  // while writing (a full disk), which is not the patch's fault.
  const check = await runGit([...applyOptions, "--check"], git);
  if (check.exitCode !== 0) {
    throw new KilnError("patch_invalid", `The patch does not apply to the workspace: ${check.stderr}`);
  }
  const applied = await runGit(applyOptions, git);
  if (applied.exitCode !== 0) {
    throw new KilnError("internal", `Could not apply the patch to ${root}: ${applied.stderr}`);
  }
}
