// `kiln tasks apply`: an attempt's diff applied to the git work tree of the current directory, all or
// nothing. Sequence: fetch the task and the attempt's diff → find the top of the work tree (git apply
// skips files outside the directory it runs in) → preflight every file (patch-preflight.ts) → with
// --preflight, report and stop; otherwise, when anything conflicts or is refused, report and change
// nothing; else apply the files not already applied (`git apply --check` on them as a whole, then
// `git apply`). Changes land in the work tree only (new files untracked), for the user to review.
import { KilnError, type Task } from "@kiln/protocol";
import type { ExtractedAttempt } from "@kiln/sdk";
import type { CliIo } from "../exec/run-exec.ts";
import { attemptWarning, chooseAttempt } from "./choose-attempt.ts";
import { git, workTreeRoot } from "./git-command.ts";
import { parseCommandArgs, singlePositional } from "./parse-remote-args.ts";
import { type FileVerdict, gitReason, type Preflight, preflightPatch } from "./patch-preflight.ts";
import { type Colors, colorsFor, runRemoteCommand } from "./remote-command.ts";
import { plural } from "./task-format.ts";

/** `kiln tasks apply --help`. */
export const TASKS_APPLY_HELP = `Usage: kiln tasks apply TASK_ID [--attempt N] [--preflight]

Applies an attempt's diff to the git work tree you are in (git apply), all or nothing: if any file
does not apply, nothing is changed. New files are left untracked; review with git status / git diff.

Each file is one of:
  apply            it applies
  already applied  the tree already has this very change: skipped
  conflict         it does not apply (the file differs from the one the task started from)
  refused          a path outside the work tree, or a binary change without its content

Options:
  --attempt N       The attempt: its number as kiln tasks show gives it (from 0) or its id
                    (default: the first completed attempt, else attempt 0)
  --preflight       Only report what would happen; exit 0 if it would apply cleanly, else 1
  --server URL      The server (default: $KILN_SERVER, else the one you logged in to)
  -h, --help        Show this help`;

/** Runs `kiln tasks apply`; resolves to the exit code. */
export function runTasksApply(io: CliIo): Promise<number> {
  return runRemoteCommand(io, "kiln tasks apply", TASKS_APPLY_HELP, async ({ connect, colors }) => {
    const { values, positionals } = parseCommandArgs({
      args: io.argv,
      options: {
        attempt: { type: "string" },
        preflight: { type: "boolean" },
        server: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: true,
    });
    const id = singlePositional(positionals, "task id");
    const root = await workTreeRoot(io.cwd, io.env);
    const { client } = await connect(values.server);
    const task = await client.tasks.get(id);
    const attempt = chooseAttempt(task, values.attempt);
    const note = colorsFor(io.stderr, io.env).dim;
    const warning = attemptWarning(task.id, attempt);
    if (warning !== undefined) io.stderr.write(note(`kiln: ${warning}\n`));
    const baseNote = await baseCommitNote(task, root, io.env);
    if (baseNote !== undefined) io.stderr.write(note(`kiln: ${baseNote}\n`));
    const diff = await client.tasks.diff(task.id, attempt.attemptId);
    if (diff.trim() === "") {
      io.stdout.write(`Attempt ${attempt.index} of ${task.id} changed nothing: there is nothing to apply.\n`);
      return 0;
    }
    const preflight = await preflightPatch(root, diff, io.env);
    const title = `${task.id} attempt ${attempt.index}`;
    if (values.preflight === true) {
      io.stdout.write(`Preflight of ${title} on ${root}:\n${formatPreflight(colors, preflight)}`);
      io.stdout.write(
        preflight.clean ? "It would apply cleanly.\n" : `It would not apply: ${problems(preflight)}.\n`,
      );
      return preflight.clean ? 0 : 1;
    }
    if (!preflight.clean) {
      io.stdout.write(`${title} does not apply to ${root}:\n${formatPreflight(colors, preflight)}`);
      io.stdout.write(`Nothing was changed (${problems(preflight)}).\n`);
      return 1;
    }
    const applied = await applyFiles(root, preflight, attempt, io.env);
    if (applied === 0) {
      io.stdout.write(`${root} already has every change of ${title}:\n${formatPreflight(colors, preflight)}`);
      io.stdout.write("Nothing to do.\n");
      return 0;
    }
    io.stdout.write(`Applied ${title} to ${root}:\n${formatPreflight(colors, preflight)}`);
    io.stdout.write(colors.dim("Review with git status and git diff (new files are untracked).\n"));
    return 0;
  });
}

/** Applies the files to apply, as a whole; resolves with their number. */
async function applyFiles(
  root: string,
  preflight: Preflight,
  attempt: ExtractedAttempt,
  env: Record<string, string | undefined>,
): Promise<number> {
  const patch = preflight.files
    .filter((f) => f.verdict === "apply")
    .map((f) => f.patch.text)
    .join("");
  if (patch === "") return 0;
  // Files that apply one by one may still clash together (a rename onto a changed file): check the whole.
  const check = await git(["apply", "--check", "-"], { cwd: root, env, input: patch });
  if (check.code !== 0) {
    throw new KilnError(
      "patch_invalid",
      `attempt ${attempt.index}'s diff does not apply as a whole (${gitReason(check.stderr)}); nothing was changed`,
    );
  }
  const applied = await git(["apply", "-"], { cwd: root, env, input: patch });
  if (applied.code !== 0) {
    throw new KilnError("patch_invalid", `git apply failed: ${gitReason(applied.stderr)}`);
  }
  return preflight.files.filter((f) => f.verdict === "apply").length;
}

const labels: Record<FileVerdict, string> = {
  apply: "apply",
  "already-applied": "already applied",
  conflict: "conflict",
  refused: "refused",
};

/** One line per file: its verdict, its path, and the reason for anything but "apply". */
export function formatPreflight(c: Colors, preflight: Preflight): string {
  const color: Record<FileVerdict, (s: string) => string> = {
    apply: c.green,
    "already-applied": c.dim,
    conflict: c.red,
    refused: c.red,
  };
  return preflight.files
    .map(({ patch, verdict, reason }) => {
      const name = patch.oldPath === undefined ? patch.path : `${patch.oldPath} → ${patch.path}`;
      const why = reason === undefined ? "" : c.dim(`  (${reason})`);
      return `  ${color[verdict](labels[verdict].padEnd(15))}  ${name}${why}\n`;
    })
    .join("");
}

function problems(preflight: Preflight): string {
  const conflicts = preflight.files.filter((f) => f.verdict === "conflict").length;
  const refused = preflight.files.filter((f) => f.verdict === "refused").length;
  return [conflicts > 0 ? plural(conflicts, "conflict") : "", refused > 0 ? `${refused} refused` : ""]
    .filter((s) => s !== "")
    .join(", ");
}

/** A note when the work tree is not at the task's base commit (the diff may then not apply). */
async function baseCommitNote(
  task: Task,
  root: string,
  env: Record<string, string | undefined>,
): Promise<string | undefined> {
  if (task.baseCommit === undefined) return undefined;
  const base = task.baseCommit.slice(0, 12);
  const known = await git(["cat-file", "-e", `${task.baseCommit}^{commit}`], { cwd: root, env });
  if (known.code !== 0) {
    return `the task started from commit ${base}, which this repository does not have: is it a clone of ${task.environmentName}'s repository?`;
  }
  const head = (await git(["rev-parse", "HEAD"], { cwd: root, env })).stdout.trim();
  if (head === task.baseCommit) return undefined;
  return `HEAD is ${head.slice(0, 12) || "unborn"}; the task started from ${base}`;
}
