// Assembles what the model is told before the first prompt of a thread: the base instructions, a
// developer message (sandbox and approval rules, then AGENTS.md from $KILN_HOME and from the repository
// root down to the working directory, capped, then the skills the model may load), and the environment
// context.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import type { ApprovalPolicy, HistoryItem, SandboxMode } from "@kiln/protocol";
import type { Skill } from "../skills/discover-skills.ts";
import { skillsInstructions } from "../skills/skills-instructions.ts";
import { isConfinedFile } from "../util/confined-file.ts";
import baseInstructions from "./base-instructions.md";

/** The base instructions Kiln sends as `instructions`. */
export const BASE_INSTRUCTIONS = baseInstructions;

/** What the instructions depend on. */
export interface InstructionsContext {
  cwd: string;
  kilnHome: string;
  sandbox: SandboxMode;
  networkAccess: boolean;
  approvalPolicy: ApprovalPolicy;
  /** Cap on all AGENTS.md text, in bytes (default 32 KiB). */
  projectDocMaxBytes: number;
  shell?: string;
  /** Today, for the environment context (injectable for tests). */
  now?: Date;
  /** Skills the model may load with `load_skill` (see `discoverSkills`), listed after AGENTS.md. */
  skills?: readonly Skill[];
  /** The embedding program's own instructions (e.g. the task service's), last in the developer message. */
  developerInstructions?: string;
}

/** The AGENTS.md files that apply to `cwd`, most general first. */
export function findAgentsFiles(cwd: string, kilnHome: string): string[] {
  const files: string[] = [];
  const global = join(kilnHome, "AGENTS.md");
  if (isConfinedFile(global, [kilnHome])) files.push(global);
  const root = repositoryRoot(cwd);
  const chain: string[] = [];
  let dir = resolve(cwd);
  for (;;) {
    chain.unshift(dir);
    if (dir === root) break;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  for (const d of chain) {
    const file = join(d, "AGENTS.md");
    if (isConfinedFile(file, [root])) files.push(file);
  }
  return files;
}

/** The git repository root above `cwd`, or `cwd` itself when there is none. */
export function repositoryRoot(cwd: string): string {
  let dir = resolve(cwd);
  for (;;) {
    if (existsSync(join(dir, ".git"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return resolve(cwd);
    dir = parent;
  }
}

/** AGENTS.md text for the model, capped at `maxBytes` in total. */
export function agentsText(files: string[], cwd: string, maxBytes: number): string {
  let budget = maxBytes;
  const parts: string[] = [];
  const note = `[truncated: AGENTS.md text is capped at ${maxBytes} bytes]`;
  let noted = false;
  for (const file of files) {
    if (budget <= 0) {
      // Files past the cap are left out; say so once, so the model knows more specific rules exist.
      if (!noted) parts.push(note);
      noted = true;
      continue;
    }
    let text = readFileSync(file, "utf8");
    const bytes = Buffer.byteLength(text, "utf8");
    if (bytes > budget) {
      text = `${Buffer.from(text, "utf8")
        .subarray(0, budget)
        .toString("utf8")
        .replace(/\uFFFD$/, "")}\n${note}`;
      noted = true;
    }
    budget -= bytes;
    const where = relative(cwd, dirname(file)) || ".";
    parts.push(`# AGENTS.md instructions for ${where}\n\n<INSTRUCTIONS>\n${text.trim()}\n</INSTRUCTIONS>`);
  }
  return parts.join("\n\n");
}

function permissionsText(ctx: InstructionsContext): string {
  const sandbox: Record<SandboxMode, string> = {
    "read-only":
      "The sandbox is read-only: commands can read files but not write anywhere; apply_patch needs approval.",
    "workspace-write": `The sandbox lets commands write inside the workspace (${ctx.cwd}) and /tmp only.`,
    "danger-full-access": "There is no sandbox: commands run with the user's full access. Be careful.",
  };
  const network =
    ctx.networkAccess || ctx.sandbox === "danger-full-access" ? "enabled" : "restricted (no network access)";
  const approvals: Record<ApprovalPolicy, string> = {
    untrusted: "Commands other than known-safe reads are shown to the user for approval before they run.",
    "on-failure":
      "Commands run in the sandbox; if one fails because of the sandbox, the user may approve running it outside.",
    "on-request":
      "Commands run in the sandbox; ask for escalation (require_escalated + justification) only when truly needed.",
    never:
      "Never ask for approval: nobody will answer. Work within the sandbox; report what you could not do.",
  };
  return `<permissions instructions>\n${sandbox[ctx.sandbox]}\nNetwork access is ${network}.\n${approvals[ctx.approvalPolicy]}\n</permissions instructions>`;
}

/** The environment context message (cwd, shell, date, sandbox, network, approval policy). */
export function environmentContext(ctx: InstructionsContext): string {
  const date = (ctx.now ?? new Date()).toISOString().slice(0, 10);
  const network = ctx.networkAccess || ctx.sandbox === "danger-full-access" ? "enabled" : "restricted";
  return [
    "<environment_context>",
    `  <cwd>${ctx.cwd}</cwd>`,
    `  <shell>${ctx.shell ?? "bash"}</shell>`,
    `  <current_date>${date}</current_date>`,
    `  <sandbox_mode>${ctx.sandbox}</sandbox_mode>`,
    `  <network_access>${network}</network_access>`,
    `  <approval_policy>${ctx.approvalPolicy}</approval_policy>`,
    "</environment_context>",
  ].join("\n");
}

/** The history items that open a thread: the developer message and the environment context. */
export function initialContext(ctx: InstructionsContext): HistoryItem[] {
  const agents = agentsText(findAgentsFiles(ctx.cwd, ctx.kilnHome), ctx.cwd, ctx.projectDocMaxBytes);
  const skills = ctx.skills === undefined || ctx.skills.length === 0 ? "" : skillsInstructions(ctx.skills);
  const developer = [permissionsText(ctx), agents, skills, ctx.developerInstructions ?? ""]
    .filter((part) => part !== "")
    .join("\n\n");
  return [
    { type: "message", role: "developer", content: [{ type: "input_text", text: developer }] },
    { type: "message", role: "user", content: [{ type: "input_text", text: environmentContext(ctx) }] },
  ];
}
