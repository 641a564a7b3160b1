// `kiln exec` arguments, Codex-compatible: options may come before or after `resume <id>`, the prompt
// is a positional argument, `-` or standard input. Accepts everything @openai/codex-sdk passes.
import { ApprovalPolicy, CollaborationMode, SandboxMode } from "@kiln/protocol";

/** Parsed `kiln exec` arguments. */
export interface ExecArgs {
  prompt: string | undefined;
  json: boolean;
  model: string | undefined;
  sandbox: SandboxMode | undefined;
  approvalPolicy: ApprovalPolicy | undefined;
  mode: CollaborationMode | undefined;
  config: string[];
  profile: string | undefined;
  cd: string | undefined;
  skipGitRepoCheck: boolean;
  outputLastMessage: string | undefined;
  addDirs: string[];
  outputSchema: string | undefined;
  images: string[];
  color: "auto" | "always" | "never";
  resume: { threadId: string | undefined; last: boolean } | undefined;
}

/** A usage error: exit code 2 with this message. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

type Spec = { key: keyof ExecArgs | "ignored" | "fullAuto" | "bypass"; value: boolean };

const OPTIONS: Record<string, Spec> = {
  "--json": { key: "json", value: false },
  "--experimental-json": { key: "json", value: false },
  "-m": { key: "model", value: true },
  "--model": { key: "model", value: true },
  "-s": { key: "sandbox", value: true },
  "--sandbox": { key: "sandbox", value: true },
  "-a": { key: "approvalPolicy", value: true },
  "--ask-for-approval": { key: "approvalPolicy", value: true },
  "--mode": { key: "mode", value: true },
  "-c": { key: "config", value: true },
  "--config": { key: "config", value: true },
  "-p": { key: "profile", value: true },
  "--profile": { key: "profile", value: true },
  "-C": { key: "cd", value: true },
  "--cd": { key: "cd", value: true },
  "--skip-git-repo-check": { key: "skipGitRepoCheck", value: false },
  "-o": { key: "outputLastMessage", value: true },
  "--output-last-message": { key: "outputLastMessage", value: true },
  "--add-dir": { key: "addDirs", value: true },
  "--output-schema": { key: "outputSchema", value: true },
  "-i": { key: "images", value: true },
  "--image": { key: "images", value: true },
  "--color": { key: "color", value: true },
  "--full-auto": { key: "fullAuto", value: false },
  "--dangerously-bypass-approvals-and-sandbox": { key: "bypass", value: false },
  "--yolo": { key: "bypass", value: false },
  // Passed by @openai/codex-sdk; meaningless for Kiln, accepted so the SDK works unchanged.
  "--thread-source": { key: "ignored", value: true },
  "--cyber-access-program": { key: "ignored", value: true },
  "--oss": { key: "ignored", value: false },
};

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`${flag}: "${value}" is not one of ${allowed.join(", ")}`);
}

/** Parses `kiln exec` arguments (without the leading `exec`). Throws UsageError. */
export function parseExecArgs(argv: string[]): ExecArgs {
  const args: ExecArgs = {
    prompt: undefined,
    json: false,
    model: undefined,
    sandbox: undefined,
    approvalPolicy: undefined,
    mode: undefined,
    config: [],
    profile: undefined,
    cd: undefined,
    skipGitRepoCheck: false,
    outputLastMessage: undefined,
    addDirs: [],
    outputSchema: undefined,
    images: [],
    color: "auto",
    resume: undefined,
  };
  const positionals: string[] = [];
  let last = false;
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string;
    if (token === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (token === "--last") {
      last = true;
      continue;
    }
    const eq = token.startsWith("--") ? token.indexOf("=") : -1;
    const name = eq > 0 ? token.slice(0, eq) : token;
    const spec = OPTIONS[name];
    if (spec === undefined) {
      if (token.startsWith("-") && token !== "-")
        throw new UsageError(`unknown option ${token} (see \`kiln exec --help\`)`);
      positionals.push(token);
      continue;
    }
    if (!spec.value && eq > 0) throw new UsageError(`${name} takes no value (got "${token.slice(eq + 1)}")`);
    let value: string | undefined;
    if (spec.value) {
      value = eq > 0 ? token.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UsageError(`${name} needs a value`);
    }
    apply(args, name, spec, value);
  }
  if (positionals[0] === "resume") {
    positionals.shift();
    const threadId = last ? undefined : positionals.shift();
    if (!last && threadId === undefined) throw new UsageError("resume needs a thread id or --last");
    args.resume = { threadId, last };
  } else if (last) {
    throw new UsageError("--last goes with `kiln exec resume --last`");
  }
  if (positionals.length > 1) {
    throw new UsageError(
      `expected one prompt, got ${positionals.length} arguments: quote the prompt ("fix the failing test")`,
    );
  }
  args.prompt = positionals[0];
  return args;
}

function apply(args: ExecArgs, flag: string, spec: Spec, value: string | undefined): void {
  const v = value ?? "";
  switch (spec.key) {
    case "json":
    case "skipGitRepoCheck":
      args[spec.key] = true;
      return;
    case "model":
    case "profile":
    case "cd":
    case "outputLastMessage":
    case "outputSchema":
      args[spec.key] = v;
      return;
    case "sandbox":
      args.sandbox = oneOf(flag, v, SandboxMode.options);
      return;
    case "approvalPolicy":
      args.approvalPolicy = oneOf(flag, v, ApprovalPolicy.options);
      return;
    case "mode":
      args.mode = oneOf(flag, v, CollaborationMode.options);
      return;
    case "color":
      args.color = oneOf(flag, v, ["auto", "always", "never"] as const);
      return;
    case "config":
      args.config.push(v);
      return;
    case "addDirs":
      args.addDirs.push(v);
      return;
    case "images":
      args.images.push(...v.split(",").filter((p) => p !== ""));
      return;
    case "fullAuto":
      args.sandbox = "workspace-write";
      args.approvalPolicy = "on-request";
      return;
    case "bypass":
      args.sandbox = "danger-full-access";
      args.approvalPolicy = "never";
      return;
    case "ignored":
      return;
    default:
      throw new UsageError(`option ${flag} cannot be used here`);
  }
}

/** `kiln exec --help`. */
export const EXEC_HELP = `Usage: kiln exec [OPTIONS] [PROMPT | -]
       kiln exec [OPTIONS] resume (<THREAD_ID> | --last) [PROMPT | -]

Runs a coding agent on PROMPT (or standard input) in the current git repository, headless.

Options:
  --json                     Print events as JSON lines on stdout (alias: --experimental-json)
  -m, --model MODEL          Model to use
  -s, --sandbox MODE         read-only | workspace-write | danger-full-access
  -a, --ask-for-approval P   untrusted | on-failure | on-request | never
      --mode MODE            plan | code | execute
  -c, --config KEY=VALUE     Override a config.toml key (value parsed as TOML), repeatable
  -p, --profile NAME         Use [profiles.NAME] from config.toml
  -C, --cd DIR               Run in DIR
      --add-dir DIR          Another writable directory, repeatable
      --skip-git-repo-check  Allow running outside a git repository
  -o, --output-last-message FILE  Write the agent's last message to FILE
      --output-schema FILE   JSON Schema the final message must match
  -i, --image FILE           Attach an image to the prompt, repeatable
      --full-auto            -s workspace-write -a on-request
      --color auto|always|never

Exit status: 0 the turn completed, 1 the turn failed, 2 bad usage or configuration.`;
