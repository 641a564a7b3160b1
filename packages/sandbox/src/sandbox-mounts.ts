import { realpath, stat } from "node:fs/promises";
import { isAbsolute } from "node:path";
import type { SandboxPolicy } from "@kiln/protocol";
import { KilnError } from "@kiln/protocol";

/** A host directory mounted into the sandbox at the same path. */
export interface SandboxMount {
  /** Real (symlink-free) absolute path. */
  path: string;
  /** Mounted read-write (`--bind`) rather than read-only (`--ro-bind`). */
  write: boolean;
}

/** The resolved mounts and working directory of one sandboxed command. */
export interface SandboxLayout {
  /** Real path of the working directory. */
  cwd: string;
  /** Roots sorted parents-first, so that a nested root is mounted over its parent. */
  mounts: SandboxMount[];
}

// The system part of the sandbox comes from the allow-list in bwrap-args.ts; a root may not replace it
// or cover it, and must not be so broad that granting it to the sandbox user would expose the host.
const systemTrees = [
  "/usr",
  "/etc",
  "/proc",
  "/sys",
  "/dev",
  "/boot",
  "/bin",
  "/sbin",
  "/lib",
  "/lib32",
  "/lib64",
  "/libx32",
];
const tooBroad = new Set([
  "/",
  "/tmp",
  "/var",
  "/var/tmp",
  "/home",
  "/root",
  "/opt",
  "/run",
  "/srv",
  "/mnt",
  "/media",
]);

/** Kept read-only inside writable roots: `.git` (hooks, config), `.kiln` and `.codex` (agent config). */
const PROTECTED_SUBPATHS = [".git", ".kiln", ".codex"];

const inside = (path: string, tree: string) => path === tree || path.startsWith(`${tree}/`);

/**
 * Resolves the policy's roots and the working directory to real paths and checks them. In
 * `read-only` mode every root is read-only; a working directory outside every root is mounted
 * read-only so the command can start there.
 */
export async function resolveSandboxLayout(policy: SandboxPolicy, cwd: string): Promise<SandboxLayout> {
  const write = policy.mode === "workspace-write";
  const mounts: SandboxMount[] = [];
  for (const root of policy.writableRoots) {
    const path = await realDirectory(root, "Writable root");
    if (tooBroad.has(path) || systemTrees.some((tree) => inside(path, tree))) {
      throw new KilnError(
        "sandbox_denied",
        `Refusing to mount ${path} into the sandbox: it is a system directory or too broad. Choose a project directory.`,
      );
    }
    if (!mounts.some((mount) => mount.path === path)) mounts.push({ path, write });
    // What runs with the user's full rights later (git hooks, Kiln's own project config) stays
    // read-only inside a writable root, so a sandboxed command cannot plant code for the host to run.
    if (write) {
      for (const name of PROTECTED_SUBPATHS) {
        const sub = await realpath(`${path}/${name}`).catch(() => undefined);
        if (sub !== undefined && inside(sub, path)) mounts.push({ path: sub, write: false });
      }
    }
  }
  const realCwd = await realDirectory(cwd, "Working directory");
  const covered =
    mounts.some((mount) => inside(realCwd, mount.path)) || systemTrees.some((tree) => inside(realCwd, tree));
  if (!covered) {
    if (tooBroad.has(realCwd)) {
      throw new KilnError(
        "sandbox_denied",
        `Refusing to run a sandboxed command in ${realCwd}: it is too broad to mount. Run it in a project directory.`,
      );
    }
    mounts.push({ path: realCwd, write: false });
  }
  mounts.sort((a, b) => a.path.length - b.path.length);
  return { cwd: realCwd, mounts };
}

async function realDirectory(path: string, what: string): Promise<string> {
  if (!isAbsolute(path)) {
    throw new KilnError("sandbox_denied", `${what} must be an absolute path, got ${JSON.stringify(path)}.`);
  }
  const real = await realpath(path).catch(() => undefined);
  const info = real === undefined ? undefined : await stat(real);
  if (real === undefined || info?.isDirectory() !== true) {
    throw new KilnError("sandbox_denied", `${what} ${path} does not exist or is not a directory.`);
  }
  return real;
}
