/**
 * Whether a shell command only reads (so it may run in parallel with other reads, and needs no
 * approval under `untrusted`). Conservative: any shell operator, redirection or substitution, an
 * option that writes or runs programs, or an unknown program counts as mutating.
 */
export function isReadOnlyCommand(cmd: string): boolean {
  if (/[;&|<>`$(){}\n\\]/.test(cmd)) return false;
  const words = cmd.trim().split(/\s+/);
  const program = words[0];
  if (program === undefined) return false;
  const args = words.slice(1).map(unquote);
  switch (program) {
    case "ls":
    case "cat":
    case "head":
    case "tail":
    case "wc":
    case "pwd":
    case "echo":
    case "grep":
    case "which":
    case "file":
    case "stat":
    case "du":
    case "nl":
    case "true":
      return true;
    case "rg":
      return !args.some((a) => /^--pre(-glob)?(=|$)/.test(a));
    case "tree":
      return !args.some((a) => a === "-o" || a.startsWith("-o"));
    case "find":
      return !args.some((a) => /^-(exec|execdir|ok|okdir|delete|fprint|fprint0|fprintf|fls)$/.test(a));
    case "sed":
      // Only `sed -n '<addresses>p' files`: other scripts can write (w) or run commands (e).
      return (
        args[0] === "-n" &&
        args[1] !== undefined &&
        /^(\d+|\$)?(,(\d+|\$))?p$/.test(args[1]) &&
        !args.slice(2).some((a) => a.startsWith("-"))
      );
    case "git":
      return isReadOnlyGit(args);
    default:
      return false;
  }
}

function isReadOnlyGit(args: string[]): boolean {
  const [sub, ...rest] = args;
  if (rest.some((a) => a === "--output" || a.startsWith("--output=") || a === "-o")) return false;
  switch (sub) {
    case "status":
    case "diff":
    case "log":
    case "show":
    case "rev-parse":
    case "ls-files":
    case "blame":
      return true;
    case "branch":
      // Listing only: a name argument creates, -d/-D/-m/-c change branches.
      return rest.every((a) =>
        /^(-a|-r|-l|--list|-v|-vv|--all|--remotes|--show-current|--no-color)$/.test(a),
      );
    default:
      return false;
  }
}

function unquote(word: string): string {
  return word.replace(/^(['"])(.*)\1$/, "$2");
}
