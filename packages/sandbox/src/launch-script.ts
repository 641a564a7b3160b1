// Every command starts through a short bash script, `bash -c SCRIPT ARG0 COMMAND...`, which execs the
// command (so it adds no process) after:
//  - closing every inherited fd above 2. Node marks its own fds close-on-exec, but fds inherited from
//    Kiln's parent and node-pty's PTY masters are not; without this, a sandbox could read or type
//    into another session's terminal. Only inherited fds survive the exec into bash, so the loop is
//    short.
//  - `2>&1`: stdout and stderr share one pipe, so their interleaving is exactly the command's.
//  - `3<"$0"`: bwrap reads the seccomp filter from fd 3 (node-pty cannot pass extra fds, and a fresh
//    open gives every spawn its own file offset).
// bash, not sh: dash cannot name fds above 9. `--norc`: bash sources ~/.bashrc when its stdin is a
// socket (it takes that for rshd), and Node's stdio pipes are sockets.

/** What the script sets up before it execs the command. */
export interface LaunchScriptOptions {
  /** Merge stderr into stdout (pipes; a PTY already merges them). */
  mergeStderr: boolean;
  /** Open `$0` (a path) as fd 3 for bwrap's `--seccomp 3`. */
  seccompFromArg0: boolean;
}

/** bash's arguments: the script, then `arg0` (`$0`), then the command to exec. */
export function launchArgs(options: LaunchScriptOptions, arg0: string, command: string[]): string[] {
  return ["--norc", "--noprofile", "-c", launchScript(options), arg0, ...command];
}

/** The bash script; run it as `bash -c SCRIPT ARG0 COMMAND...`. */
export function launchScript(options: LaunchScriptOptions): string {
  const closeInherited =
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a JS template.
    'for f in /proc/self/fd/*; do n=${f##*/}; if [ "$n" -gt 2 ]; then eval "exec $n>&-"; fi; done';
  const redirects = [options.mergeStderr ? "2>&1" : "", options.seccompFromArg0 ? '3<"$0"' : ""].filter(
    Boolean,
  );
  return `${closeInherited}; exec "$@" ${redirects.join(" ")}`.trimEnd();
}
