// Runs the user's git in their repository (with their environment and configuration: this is their
// checkout, not a sandbox), feeding it stdin and collecting what it prints.
import { spawn } from "node:child_process";
import { KilnError } from "@kiln/protocol";

/** How one git command ended. */
export interface GitRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `git args…` in `cwd`; a non-zero exit is not an error here (the caller reads `code`). */
export function git(
  args: string[],
  options: { cwd: string; env: Record<string, string | undefined>; input?: string; signal?: AbortSignal },
): Promise<GitRun> {
  return new Promise((resolve, reject) => {
    const child = spawn("git", args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ["pipe", "pipe", "pipe"],
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    // git may exit before it has read all of a patch it refuses: that is its answer, not our error.
    child.stdin.on("error", () => {});
    child.stdin.end(options.input ?? "");
    child.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") {
        reject(new KilnError("invalid_request", "git is not installed (or not on PATH): install git first"));
        return;
      }
      reject(error);
    });
    child.once("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** The top of the git work tree that contains `cwd`; an error saying what to do when there is none. */
export async function workTreeRoot(cwd: string, env: Record<string, string | undefined>): Promise<string> {
  const found = await git(["rev-parse", "--show-toplevel"], { cwd, env });
  const root = found.stdout.trim();
  if (found.code !== 0 || root === "") {
    throw new KilnError(
      "invalid_request",
      `${cwd} is not inside a git work tree: run this in a clone of the task's repository`,
    );
  }
  return root;
}
