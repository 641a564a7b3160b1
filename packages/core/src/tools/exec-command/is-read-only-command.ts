/**
 * Whether a shell command only reads (so it may run in parallel with other reads). Conservative: any
 * shell operator, redirection or substitution, or an unknown program, counts as mutating.
 */
export function isReadOnlyCommand(cmd: string): boolean {
  if (/[;&|<>`$(){}\n\\]/.test(cmd)) return false;
  const words = cmd.trim().split(/\s+/);
  const program = words[0];
  if (program === undefined) return false;
  const args = words.slice(1);
  switch (program) {
    case "ls":
    case "cat":
    case "head":
    case "tail":
    case "wc":
    case "pwd":
    case "echo":
    case "grep":
    case "rg":
    case "which":
    case "file":
    case "stat":
    case "tree":
    case "du":
    case "nl":
    case "true":
      return true;
    case "find":
      return !args.some((a) => /^-(exec|execdir|ok|okdir|delete|fprint|fprint0|fprintf|fls)$/.test(a));
    case "sed":
      return args[0] === "-n" && !args.some((a) => a.startsWith("-i") || /w\s*\S*$/.test(a));
    case "git":
      return (
        ["status", "diff", "log", "show", "branch", "rev-parse", "ls-files", "blame"].includes(
          args[0] ?? "",
        ) && !args.includes("--output")
      );
    default:
      return false;
  }
}
