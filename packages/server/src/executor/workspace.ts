// Where a thread works: a fresh git workspace in the data directory, or a host directory the caller
// names — which must lie under one of the server's workspace roots (admins may use any directory
// when no root is configured).
import { execFile } from "node:child_process";
import { mkdir, realpath, stat } from "node:fs/promises";
import { isAbsolute, join, relative, resolve } from "node:path";
import { promisify } from "node:util";
import { type InputPart, KilnError, newId } from "@kiln/protocol";

const run = promisify(execFile);

/**
 * Creates `<dataDir>/workspaces/<id>` with `git init`. The id is made here because the thread's own
 * id is chosen by `Kiln.startThread`, which needs the directory first.
 */
export async function createWorkspace(dataDir: string): Promise<string> {
  const dir = join(dataDir, "workspaces", newId("thr"));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await run("git", ["init", "-q", "-b", "main"], { cwd: dir }).catch((error: unknown) => {
    throw new KilnError(
      "internal",
      `could not create a git workspace in ${dir}: ${(error as Error).message}`,
    );
  });
  return dir;
}

/**
 * Checks a host directory a caller names (a thread's `cwd`, an environment's local repository): it must
 * exist and lie under a workspace root (admins: anywhere when no root is configured). Returns its real
 * path. `field` names the request field in errors.
 */
export async function checkWorkspaceCwd(
  cwd: string,
  user: { role: "admin" | "user" },
  workspaceRoots: readonly string[],
  field = "cwd",
): Promise<string> {
  if (!isAbsolute(cwd)) {
    throw new KilnError("invalid_request", `"${field}": give an absolute path (got ${cwd})`, {
      details: { field },
    });
  }
  const real = await realpath(cwd).catch(() => undefined);
  if (real === undefined || !(await stat(real)).isDirectory()) {
    throw new KilnError("invalid_request", `"${field}": ${cwd} is not a directory on the server`, {
      details: { field },
    });
  }
  if (workspaceRoots.length === 0 && user.role === "admin") return real;
  for (const root of workspaceRoots) {
    const realRoot = await realpath(root).catch(() => root);
    const rel = relative(realRoot, real);
    if (rel === "" || (!rel.startsWith("..") && !isAbsolute(rel))) return real;
  }
  throw new KilnError(
    "forbidden",
    workspaceRoots.length === 0
      ? `"${field}": this server allows no host directories to users (an admin may start kiln serve with --workspace-root DIR)${field === "cwd" ? ", or omit cwd for a fresh workspace" : ", or use a git URL"}`
      : `"${field}": ${cwd} is not under a workspace root of this server (${workspaceRoots.join(", ")})`,
    { details: { field } },
  );
}

/** Refuses `localImage` parts outside the thread's workspace (the server must not read host files for a client). */
export function checkInputPaths(input: string | InputPart[], cwd: string): void {
  if (typeof input === "string") return;
  for (const [index, part] of input.entries()) {
    if (part.type !== "localImage") continue;
    const rel = relative(cwd, resolve(cwd, part.path));
    if (rel.startsWith("..") || isAbsolute(rel)) {
      throw new KilnError(
        "forbidden",
        `"input.${index}.path": a local image must be inside the thread's workspace`,
        {
          details: { field: `input.${index}.path` },
        },
      );
    }
  }
}

/** A short title from a prompt. */
export function titleFrom(input: string | InputPart[]): string {
  const text = typeof input === "string" ? input : (input.find((p) => p.type === "text")?.text ?? "");
  const line = text.replace(/\s+/g, " ").trim();
  return line.length <= 80 ? line : `${line.slice(0, 79)}…`;
}
