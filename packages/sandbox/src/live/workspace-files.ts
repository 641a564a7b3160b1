// The files API of a live sandbox: list, read, stat and write, confined to the workspace (see
// workspace-path.ts for how). Writes are atomic (a temp file in the same directory, renamed over the
// target) and keep an existing file's mode and owner; a new file is created with mode 0666 so that,
// when Kiln is root, the directory's default ACL (granted by sandbox-access.ts) makes it writable by the
// sandbox user: the ACL mask of a new file comes from the group bits of the mode it is created with.
import { randomBytes } from "node:crypto";
import type { Stats } from "node:fs";
import { constants } from "node:fs";
import { lstat, open, readdir, readlink, rename, unlink } from "node:fs/promises";
import { resolve } from "node:path";
import type { SandboxDirectoryListing, SandboxFileContent, SandboxFileEntry } from "@kiln/protocol";
import { KilnError } from "@kiln/protocol";
import {
  checkInside,
  escapeError,
  fileError,
  isProtected,
  openDirectory,
  pathComponents,
  protectedError,
  relativeTo,
  throughFd,
  type WorkspaceRoot,
} from "./workspace-path.ts";

/** `GET /sandboxes/{id}/files` on a directory. */
export type DirectoryListing = ReturnType<typeof SandboxDirectoryListing.parse>;
/** `GET /sandboxes/{id}/files` on a file. */
export type FileContent = ReturnType<typeof SandboxFileContent.parse>;

/** Files of one workspace. Paths are relative to it (or absolute inside it), `/`-separated. */
export interface WorkspaceFiles {
  /** The entries of a directory, sorted by name; symlinks are listed as such, not followed. */
  list(path: string): Promise<DirectoryListing>;
  /** A file's content: UTF-8 when it is valid UTF-8 without NUL bytes, base64 otherwise. */
  read(path: string, options?: { maxBytes?: number }): Promise<FileContent>;
  /** Replaces (or creates) a file atomically, creating missing parent directories. */
  write(path: string, content: Uint8Array | string): Promise<SandboxFileEntry>;
  /** What is at `path` (a symlink that stays inside is followed). */
  stat(path: string): Promise<SandboxFileEntry>;
}

/** Default cap of `read`: the same as the largest write request. */
export const defaultReadLimit = 16 * 1024 * 1024;

/** Creates the files API of `root`; `touch` is called on every operation (idle tracking). */
export function createWorkspaceFiles(root: WorkspaceRoot, touch: () => void = () => {}): WorkspaceFiles {
  const asRoot = process.getuid?.() === 0;

  /** Opens what `path` names (following inside symlinks) without blocking on FIFOs. */
  const openTarget = async (names: string[], shown: string) => {
    const dir = await openDirectory(root, names.slice(0, -1));
    const name = names.at(-1);
    if (name === undefined) return dir.handle;
    try {
      const handle = await open(
        throughFd(dir.handle, name),
        constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY,
      );
      await checkInside(root, handle, shown);
      return handle;
    } catch (error) {
      await danglingEscape(dir.handle, name, dir.relative, shown);
      throw fileError(error, shown);
    } finally {
      await dir.handle.close();
    }
  };

  /** Throws `path_escape` when `name` is a symlink whose (missing) target is outside the workspace. */
  const danglingEscape = async (
    dir: Awaited<ReturnType<typeof open>>,
    name: string,
    relative: string,
    shown: string,
  ) => {
    const target = await readlink(throughFd(dir, name)).catch(() => undefined);
    if (target === undefined) return;
    const lexical = resolve(relative === "" ? root.real : `${root.real}/${relative}`, target);
    if (lexical !== root.real && !lexical.startsWith(`${root.real}/`)) throw escapeError(shown);
  };

  const entry = (name: string, path: string, info: Stats): SandboxFileEntry => ({
    name,
    path,
    type: info.isFile()
      ? "file"
      : info.isDirectory()
        ? "directory"
        : info.isSymbolicLink()
          ? "symlink"
          : "other",
    size: info.isFile() ? info.size : 0,
    modifiedAt: Math.floor(info.mtimeMs),
  });

  const write = async (
    path: string,
    content: Uint8Array | string,
    followed = false,
  ): Promise<SandboxFileEntry> => {
    const names = pathComponents(root, path);
    const name = names.at(-1);
    if (name === undefined)
      throw new KilnError("invalid_request", "Cannot write the workspace directory itself: name a file.");
    if (isProtected(names.join("/"))) throw protectedError(path);
    const dir = await openDirectory(root, names.slice(0, -1), { create: true });
    try {
      const target = throughFd(dir.handle, name);
      const existing = await lstat(target).catch(() => undefined);
      if (existing?.isSymbolicLink()) {
        // Write to where the link leads (if that is inside); the rename would otherwise replace the link.
        await danglingEscape(dir.handle, name, dir.relative, path);
        const opened = await open(target, constants.O_RDONLY | constants.O_NONBLOCK).catch(
          (error: unknown) => {
            throw fileError(error, path);
          },
        );
        const real = await checkInside(root, opened, path);
        await opened.close();
        if (followed)
          throw new KilnError("conflict", `${path} changed while it was being written; try again.`);
        return await write(relativeTo(root, real), content, true);
      }
      if (existing?.isDirectory()) throw new KilnError("invalid_request", `${path} is a directory.`);
      if (existing !== undefined && !existing.isFile()) {
        throw new KilnError("invalid_request", `${path} is not a regular file.`);
      }
      const temp = throughFd(dir.handle, `.${name}.kiln-${randomBytes(6).toString("hex")}.tmp`);
      const handle = await open(
        temp,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
        0o666,
      );
      try {
        if (existing !== undefined) {
          if (asRoot) await handle.chown(existing.uid, existing.gid);
          // Without setuid/setgid: content written through the API must never become a root setuid program.
          await handle.chmod(existing.mode & 0o777);
        }
        await handle.writeFile(content);
        await handle.close();
        await rename(temp, target);
      } catch (error) {
        await handle.close().catch(() => {});
        await unlink(temp).catch(() => {});
        throw fileError(error, path);
      }
      const relative = dir.relative === "" ? name : `${dir.relative}/${name}`;
      return entry(name, relative, await lstat(target));
    } finally {
      await dir.handle.close();
    }
  };

  return {
    async list(path) {
      touch();
      const names = pathComponents(root, path);
      const shown = names.join("/");
      const dir = await openDirectory(root, names).catch((error: unknown) => {
        throw fileError(error, shown || ".");
      });
      try {
        const dirents = await readdir(throughFd(dir.handle));
        const entries = await Promise.all(
          dirents.map(async (name) => {
            const info = await lstat(throughFd(dir.handle, name)).catch(() => undefined);
            return info === undefined
              ? undefined
              : entry(name, shown === "" ? name : `${shown}/${name}`, info);
          }),
        );
        return {
          path: shown,
          type: "directory",
          entries: entries
            .filter((item) => item !== undefined)
            .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
        };
      } finally {
        await dir.handle.close();
      }
    },

    async read(path, options = {}) {
      touch();
      const maxBytes = options.maxBytes ?? defaultReadLimit;
      const names = pathComponents(root, path);
      const shown = names.join("/");
      const handle = await openTarget(names, shown || ".");
      try {
        const info = await handle.stat();
        if (info.isDirectory())
          throw new KilnError("invalid_request", `${shown || "."} is a directory: list it instead.`);
        if (!info.isFile()) throw new KilnError("invalid_request", `${shown} is not a regular file.`);
        if (info.size > maxBytes) {
          throw new KilnError(
            "payload_too_large",
            `${shown} is ${info.size} bytes, more than the ${maxBytes}-byte limit of a read; read parts of it with exec (e.g. \`head -c\`).`,
            { details: { size: info.size, maxBytes } },
          );
        }
        // Read one byte more than allowed: the file may have grown since fstat.
        const buffer = Buffer.alloc(Math.min(info.size, maxBytes) + 1);
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
        if (bytesRead > maxBytes) {
          throw new KilnError(
            "payload_too_large",
            `${shown} grew past the ${maxBytes}-byte limit of a read.`,
          );
        }
        const bytes = buffer.subarray(0, bytesRead);
        const text = decodeText(bytes);
        return {
          path: shown,
          type: "file",
          size: bytesRead,
          encoding: text === undefined ? "base64" : "utf-8",
          content: text ?? bytes.toString("base64"),
        };
      } finally {
        await handle.close();
      }
    },

    async write(path, content) {
      touch();
      return write(path, content);
    },

    async stat(path) {
      touch();
      const names = pathComponents(root, path);
      const shown = names.join("/");
      const handle = await openTarget(names, shown || ".");
      try {
        return entry(names.at(-1) ?? "", shown, await handle.stat());
      } finally {
        await handle.close();
      }
    },
  };
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** The bytes as text, or undefined when they are not valid UTF-8 or contain NUL (a binary file). */
function decodeText(bytes: Uint8Array): string | undefined {
  if (bytes.includes(0)) return undefined;
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}
