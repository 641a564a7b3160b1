// Runs one command in a bubblewrap sandbox. Sequence per spawn:
//   1. resolve and check the mounts (sandbox-mounts.ts);
//   2. as root: grant the sandbox uid ACL access to them (cached; sandbox-access.ts);
//   3. build bwrap's arguments and start `bash -c LAUNCH <seccomp path> [setpriv …] bwrap …`, on
//      pipes or in a PTY. The script execs setpriv, which execs bwrap: two execs, no extra process.
// As root, bwrap itself runs as the unprivileged sandbox uid: a sandbox started by root would
// otherwise still be root on the host's files (/etc/shadow readable).
import { KilnError } from "@kiln/protocol";
import { buildBwrapArgs, detectHostLayout } from "./bwrap-args.ts";
import { launchArgs } from "./launch-script.ts";
import { createAccessGranter } from "./sandbox-access.ts";
import { sandboxEnv, sandboxPath } from "./sandbox-env.ts";
import { resolveSandboxLayout } from "./sandbox-mounts.ts";
import { seccompFilterPath } from "./seccomp-filter.ts";
import { spawnPiped } from "./spawn-piped.ts";
import { spawnPty } from "./spawn-pty.ts";
import { requireSystemTool } from "./system-tools.ts";
import type { SandboxProcess, SandboxProviderOptions, SpawnOptions } from "./types.ts";

/** The default host uid (and gid) of sandboxed commands when Kiln runs as root. */
export const defaultSandboxUid = 61000;

/** Starts commands one way (in bwrap, or on the host). */
export interface CommandRunner {
  spawn(options: SpawnOptions): Promise<SandboxProcess>;
}

/** How bwrap is started: directly, or through setpriv as the sandbox uid when Kiln is root. */
export interface BwrapLauncher {
  /** The command line that runs bwrap (setpriv + bwrap, or bwrap). */
  prefix: string[];
  /** The host uid sandboxed commands run as. */
  uid: number;
  /** Makes mounts reachable by that uid (a no-op when Kiln is not root). */
  grant: (mounts: { path: string; write: boolean }[]) => Promise<void>;
}

/** Finds the tools bwrap needs and decides the sandbox uid; throws `sandbox_unavailable` if any is missing. */
export function createBwrapLauncher(options: SandboxProviderOptions = {}): BwrapLauncher {
  const bwrap = requireSystemTool("bwrap", options.bwrapPath);
  const ownUid = process.getuid?.() ?? 0;
  if (ownUid !== 0) return { prefix: [bwrap], uid: ownUid, grant: async () => {} };

  const uid = options.uid ?? defaultSandboxUid;
  const gid = options.gid ?? uid;
  if (![uid, gid].every((id) => Number.isInteger(id) && id > 0)) {
    throw new KilnError(
      "config_invalid",
      `The sandbox uid and gid must be positive integers (not root's 0), got ${uid}:${gid}.`,
    );
  }
  const setpriv = requireSystemTool("setpriv");
  const granter = createAccessGranter(uid, {
    setfacl: requireSystemTool("setfacl"),
    getfacl: requireSystemTool("getfacl"),
  });
  return {
    prefix: [setpriv, `--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", "--inh-caps=-all", bwrap],
    uid,
    grant: (mounts) => granter.grant(mounts),
  };
}

/**
 * Creates the bwrap runner; throws `sandbox_unavailable` when bwrap (or, as root, setpriv/setfacl) is
 * missing or the CPU has no seccomp filter.
 */
export function createBwrapRunner(options: SandboxProviderOptions = {}): CommandRunner {
  const launcher = createBwrapLauncher(options);
  const bash = requireSystemTool("bash");
  const layout = detectHostLayout();
  const seccompFilter = seccompFilterPath();

  return {
    async spawn(options) {
      options.signal?.throwIfAborted();
      if (options.argv.length === 0) throw new KilnError("invalid_request", "Nothing to run: argv is empty.");
      const { cwd, mounts } = await resolveSandboxLayout(options.policy, options.cwd);
      await launcher.grant(mounts);
      const tty = options.tty === true;
      const env = sandboxEnv(tty, options.env);
      const bwrapArgs = buildBwrapArgs(layout, {
        cwd,
        mounts,
        shareNet: options.policy.mode === "workspace-write" && options.policy.networkAccess,
        tty,
        env,
        seccompFd: 3,
        argv: options.argv,
      });
      const separateStderr = !tty && options.separateStderr === true;
      const launch = { mergeStderr: !tty && !separateStderr, seccompFromArg0: true };
      const command = [...(options.hostPrefix ?? []), ...launcher.prefix, ...bwrapArgs];
      const spec = {
        file: bash,
        args: launchArgs(launch, seccompFilter, command),
        cwd: "/",
        env: { PATH: sandboxPath },
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      };
      if (!tty) return spawnPiped({ ...spec, separateStderr });
      return spawnPty({
        ...spec,
        cols: options.cols ?? 80,
        rows: options.rows ?? 24,
        term: env.TERM ?? "xterm-256color",
      });
    },
  };
}
