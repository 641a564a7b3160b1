// Confinement of host-side file operations to a workspace that sandboxed code can change at the same
// time. A path check followed by an open is a race (the sandbox can swap a directory for a symlink to
// /etc in between, and Kiln may be root), so every step opens first and checks after: each directory
// is opened through the previous one's fd (`/proc/self/fd/N/name`), and the real location of what was
// opened (`readlink /proc/self/fd/M`) must lie inside the workspace. Symlinks that stay inside are
// followed; one that leads outside is a `path_escape`.
import { constants } from "node:fs";
import { type FileHandle, mkdir, open, readlink, realpath } from "node:fs/promises";
import { isAbsolute } from "node:path";
import { KilnError } from "@kiln/protocol";

/** A workspace directory: as given, and its real (symlink-free) path. */
export interface WorkspaceRoot {
  given: string;
  real: string;
}

/** Top-level directories that sandboxed commands see read-only (sandbox-mounts.ts): no writes there either. */
export const protectedDirectories = [".git", ".kiln", ".codex"];

/** Resolves the workspace directory once. */
export async function resolveWorkspaceRoot(workspace: string): Promise<WorkspaceRoot> {
  if (!isAbsolute(workspace)) {
    throw new KilnError(
      "invalid_request",
      `A sandbox workspace must be an absolute path, got ${JSON.stringify(workspace)}.`,
    );
  }
  const real = await realpath(workspace).catch((error: unknown) => {
    throw new KilnError("not_found", `The sandbox workspace ${workspace} does not exist.`, { cause: error });
  });
  return { given: workspace, real };
}

const inside = (path: string, root: string) => path === root || path.startsWith(`${root}/`);

/**
 * Splits a path given relative to the workspace (or absolute inside it) into its names. `..` anywhere,
 * or an absolute path outside the workspace, is a `path_escape`.
 */
export function pathComponents(root: WorkspaceRoot, path: string): string[] {
  if (path.includes("\0")) throw new KilnError("invalid_request", "A path must not contain NUL characters.");
  let relative = path;
  if (isAbsolute(path)) {
    const base = [root.given, root.real].find((candidate) => inside(path, candidate));
    if (base === undefined) throw escapeError(path);
    relative = path.slice(base.length);
  }
  const names = relative.split("/").filter((name) => name !== "" && name !== ".");
  if (names.includes("..")) throw escapeError(path);
  return names;
}

/** `/`-separated path relative to the workspace ("" for the workspace itself). */
export function relativeTo(root: WorkspaceRoot, real: string): string {
  return real === root.real ? "" : real.slice(root.real.length + 1);
}

/** A path through an open directory's fd: immune to renames and symlink swaps above it. */
export function throughFd(handle: FileHandle, name?: string): string {
  return name === undefined ? `/proc/self/fd/${handle.fd}` : `/proc/self/fd/${handle.fd}/${name}`;
}

/** Where an opened file really is; a `path_escape` (after closing it) when that is outside the workspace. */
export async function checkInside(root: WorkspaceRoot, handle: FileHandle, shown: string): Promise<string> {
  const real = await readlink(throughFd(handle));
  if (inside(real, root.real)) return real;
  await handle.close();
  throw escapeError(shown);
}

/** An opened directory and where it really is. */
export interface OpenedDirectory {
  handle: FileHandle;
  /** Real path, relative to the workspace. */
  relative: string;
}

/**
 * Opens the directory `names` lead to, one name at a time. With `create`, missing directories are made
 * (mode 0777 minus umask, or as the parent's default ACL says) and none may be a protected one.
 */
export async function openDirectory(
  root: WorkspaceRoot,
  names: string[],
  options: { create?: boolean } = {},
): Promise<OpenedDirectory> {
  const flags = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NONBLOCK;
  let handle = await open(root.real, flags);
  let real = root.real;
  const shown = names.join("/") || ".";
  for (const name of names) {
    if (options.create === true && isProtected(relativeTo(root, real), name)) {
      await handle.close();
      throw protectedError(shown);
    }
    const next = throughFd(handle, name);
    try {
      if (options.create === true) await mkdir(next, 0o777).catch(ignoreExists);
      const opened = await open(next, flags);
      await handle.close();
      handle = opened;
    } catch (error) {
      await handle.close();
      throw fileError(error, shown);
    }
    real = await checkInside(root, handle, shown);
  }
  if (options.create === true && isProtected(relativeTo(root, real))) {
    await handle.close();
    throw protectedError(shown);
  }
  return { handle, relative: relativeTo(root, real) };
}

/** Whether `name` inside directory `relative` (or `relative` itself) is in a protected directory. */
export function isProtected(relative: string, name?: string): boolean {
  const path = name === undefined ? relative : relative === "" ? name : `${relative}/${name}`;
  const top = path.split("/")[0] ?? "";
  return protectedDirectories.includes(top);
}

/** The `path_escape` error for `path`. */
export function escapeError(path: string): KilnError {
  return new KilnError(
    "path_escape",
    `${JSON.stringify(path)} is outside the sandbox workspace (through "..", an absolute path or a symlink). Use a path inside the workspace.`,
  );
}

/** The error for writing into .git, .kiln or .codex. */
export function protectedError(path: string): KilnError {
  return new KilnError(
    "sandbox_denied",
    `Refusing to write ${JSON.stringify(path)}: ${protectedDirectories.join(", ")} are read-only in a sandbox (git hooks and agent configuration run with the user's rights).`,
  );
}

/** Turns a filesystem error into a KilnError a person can act on. */
export function fileError(error: unknown, path: string): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case "ENOENT":
      return new KilnError("not_found", `No such file or directory in the workspace: ${path}.`, {
        cause: error,
      });
    case "ENOTDIR":
      return new KilnError("invalid_request", `A component of ${path} is not a directory.`, { cause: error });
    case "ELOOP":
      return new KilnError("invalid_request", `Too many levels of symlinks in ${path}.`, { cause: error });
    case "EISDIR":
      return new KilnError("invalid_request", `${path} is a directory.`, { cause: error });
    default:
      return error;
  }
}

function ignoreExists(error: unknown): void {
  if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
}
