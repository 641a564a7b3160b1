// The bwrap command line: an allow-listed, read-only root filesystem (the host's /usr, /etc and /opt),
// fresh /proc, /dev and /tmp, the sandbox roots at their real host paths, every namespace unshared
// (the network too, unless the policy allows it), no capabilities, a clean environment, and the
// seccomp filter read from fd 3.
import { existsSync, lstatSync, readlinkSync, realpathSync } from "node:fs";
import { sandboxHome } from "./sandbox-env.ts";
import type { SandboxMount } from "./sandbox-mounts.ts";

/** What the host's root directory looks like, so the sandbox can mirror it. */
export interface HostLayout {
  /** Top-level entries that are symlinks on the host (merged /usr): name → link target. */
  symlinks: Record<string, string>;
  /** Top-level system directories that are real directories on the host (mounted read-only). */
  directories: string[];
  /** Where /etc/resolv.conf really lives when that is outside /etc and /usr (systemd-resolved). */
  resolvConf: string | undefined;
}

const topLevel = ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/opt"];

/** Reads the host's top-level layout (a few lstat calls; do it once per provider). */
export function detectHostLayout(): HostLayout {
  const symlinks: Record<string, string> = {};
  const directories: string[] = [];
  for (const path of topLevel) {
    const info = lstatSync(path, { throwIfNoEntry: false });
    if (info?.isSymbolicLink()) symlinks[path] = readlinkSync(path);
    else if (info?.isDirectory()) directories.push(path);
  }
  const resolv = existsSync("/etc/resolv.conf") ? realpathSync("/etc/resolv.conf") : undefined;
  const resolvConf = resolv === undefined || /^\/(etc|usr)\//.test(resolv) ? undefined : resolv;
  return { symlinks, directories, resolvConf };
}

/** Everything that varies between two sandboxed commands. */
export interface BwrapInvocation {
  cwd: string;
  mounts: SandboxMount[];
  /** Keep the host's network namespace. */
  shareNet: boolean;
  /** Running in a PTY: keep the session so the terminal stays the controlling one. */
  tty: boolean;
  /** The complete environment inside. */
  env: Record<string, string>;
  /** The fd bwrap reads the seccomp program from. */
  seccompFd: number;
  argv: string[];
}

/** bwrap's arguments (without the bwrap path itself). */
export function buildBwrapArgs(layout: HostLayout, invocation: BwrapInvocation): string[] {
  const args = ["--unshare-all"];
  if (invocation.shareNet) args.push("--share-net");
  args.push("--die-with-parent", "--cap-drop", "ALL");
  // A PTY session keeps its controlling terminal (job control, ^C); TIOCSTI is denied by seccomp instead.
  if (!invocation.tty) args.push("--new-session");

  args.push("--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc");
  for (const [path, target] of Object.entries(layout.symlinks)) args.push("--symlink", target, path);
  for (const path of layout.directories) args.push("--ro-bind", path, path);
  if (layout.resolvConf !== undefined) args.push("--ro-bind", layout.resolvConf, layout.resolvConf);
  args.push("--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--dir", sandboxHome);

  for (const mount of invocation.mounts)
    args.push(mount.write ? "--bind" : "--ro-bind", mount.path, mount.path);
  args.push("--remount-ro", "/");

  args.push("--clearenv");
  for (const [name, value] of Object.entries(invocation.env)) args.push("--setenv", name, value);
  args.push("--chdir", invocation.cwd, "--seccomp", String(invocation.seccompFd), "--", ...invocation.argv);
  return args;
}
