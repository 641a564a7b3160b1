import { execFile } from "node:child_process";
import { lstat, mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { KilnError } from "@kiln/protocol";
import { findSystemTool } from "../system-tools.ts";

/** How a workspace was copied: sharing blocks copy-on-write, or byte by byte. */
export interface CopyWorkspaceResult {
  method: "reflink" | "copy";
}

// Whether a filesystem (by device number) can reflink; probed once per device per process.
const reflinkByDevice = new Map<number, Promise<boolean>>();

/**
 * Copies the tree `src` to `dest` (which must not exist; its parent is created) with GNU
 * `cp -a --reflink=auto`: modes, owners, ACLs, timestamps and hard links are kept, symlinks are copied
 * as symlinks (never followed), and blocks are shared copy-on-write where the filesystem can.
 */
export async function copyWorkspace(
  src: string,
  dest: string,
  options: { signal?: AbortSignal } = {},
): Promise<CopyWorkspaceResult> {
  const from = resolve(src);
  const to = resolve(dest);
  const source = await lstat(from).catch(() => undefined);
  if (source?.isDirectory() !== true) {
    throw new KilnError("invalid_request", `Cannot copy ${from}: it is not a directory.`);
  }
  if ((await lstat(to).catch(() => undefined)) !== undefined) {
    throw new KilnError("conflict", `Cannot copy a workspace to ${to}: it already exists.`);
  }
  const cp = findSystemTool("cp");
  if (cp === undefined) throw new KilnError("internal", "cp is not installed on the server (coreutils).");
  await mkdir(dirname(to), { recursive: true });
  const parent = await stat(dirname(to));
  const reflink = parent.dev === source.dev && (await canReflink(cp, dirname(to), parent.dev));
  try {
    await run(cp, ["-a", "--reflink=auto", "--no-target-directory", "--", from, to], options.signal);
  } catch (error) {
    await rm(to, { recursive: true, force: true });
    if (options.signal?.aborted)
      throw new KilnError("turn_interrupted", "Copying the workspace was cancelled.");
    throw new KilnError("environment_failed", `Could not copy ${from} to ${to}: ${describe(error)}`, {
      cause: error,
    });
  }
  return { method: reflink ? "reflink" : "copy" };
}

function canReflink(cp: string, dir: string, device: number): Promise<boolean> {
  let known = reflinkByDevice.get(device);
  if (known === undefined) {
    known = probeReflink(cp, dir);
    reflinkByDevice.set(device, known);
  }
  return known;
}

/** Tries `cp --reflink=always` on a small file in `dir`. */
async function probeReflink(cp: string, dir: string): Promise<boolean> {
  const probe = await mkdtemp(join(dir, ".kiln-reflink-probe-"));
  try {
    await writeFile(join(probe, "a"), "kiln reflink probe\n");
    return await run(cp, ["--reflink=always", "--", join(probe, "a"), join(probe, "b")]).then(
      () => true,
      () => false,
    );
  } finally {
    await rm(probe, { recursive: true, force: true });
  }
}

function run(file: string, args: string[], signal?: AbortSignal): Promise<void> {
  return new Promise((resolveRun, reject) => {
    execFile(
      file,
      args,
      { env: { LC_ALL: "C", PATH: "/usr/bin:/bin" }, ...(signal === undefined ? {} : { signal }) },
      (error, _stdout, stderr) => {
        if (error === null) return resolveRun();
        reject(Object.assign(error, { stderr }));
      },
    );
  });
}

function describe(error: unknown): string {
  const stderr = (error as { stderr?: unknown }).stderr;
  if (typeof stderr === "string" && stderr.trim() !== "") return stderr.trim();
  return error instanceof Error ? error.message : String(error);
}
