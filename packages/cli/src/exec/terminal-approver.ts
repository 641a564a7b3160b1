// Asks approvals at the terminal (/dev/tty, so it works even when the prompt came on stdin): one
// keypress-and-Enter answer per request.
import { openSync } from "node:fs";
import { createInterface } from "node:readline/promises";
import { ReadStream } from "node:tty";
import type { ApprovalDecision, PendingApproval } from "@kiln/core";
import pc from "picocolors";

/** Something that can ask a person and be closed. */
export interface TerminalApprover {
  approve(request: PendingApproval, signal: AbortSignal): Promise<ApprovalDecision>;
  /** Asks a yes/no question (plan approval). */
  confirm(question: string): Promise<boolean>;
  close(): void;
}

/** An approver on the controlling terminal, or undefined when there is none (non-interactive). */
export function openTerminalApprover(stderr: NodeJS.WriteStream): TerminalApprover | undefined {
  if (stderr.isTTY !== true) return undefined;
  let fd: number;
  try {
    fd = openSync("/dev/tty", "r");
  } catch {
    return undefined;
  }
  const input = new ReadStream(fd);
  const rl = createInterface({ input, output: stderr, terminal: false });
  const c = pc.createColors(true);
  const ask = async (question: string, signal?: AbortSignal): Promise<string> =>
    (await rl.question(question, signal === undefined ? {} : { signal })).trim().toLowerCase();
  return {
    async approve(untrusted, signal) {
      // The model writes summary and reason: control characters could redraw the prompt.
      const request = {
        ...untrusted,
        summary: visible(untrusted.summary),
        reason: untrusted.reason === undefined ? undefined : visible(untrusted.reason),
      };
      const what =
        request.kind === "command"
          ? `run ${c.bold(request.summary)}${request.escalated ? " outside the sandbox" : ""}`
          : request.kind === "patch"
            ? `apply a patch (${request.summary})`
            : `call ${c.bold(request.summary)}`;
      stderr.write(`\n${c.yellow("approval needed")}: ${what}\n`);
      if (request.reason !== undefined) stderr.write(`  reason: ${request.reason}\n`);
      const prefix =
        request.prefixRule === undefined
          ? ""
          : `  [p] always for commands starting with "${request.prefixRule.join(" ")}"\n`;
      stderr.write(
        `  [y] yes, once   [a] yes, for this session\n${prefix}  [n] no, and tell the agent   [x] no, and stop the turn\n`,
      );
      for (;;) {
        const answer = await ask("> ", signal).catch(() => "x");
        if (answer === "y" || answer === "yes") return "approved";
        if (answer === "a") return "approved_for_session";
        if (answer === "p" && request.prefixRule !== undefined) return "approved_prefix";
        if (answer === "n" || answer === "no") return "denied";
        if (answer === "x") return "aborted";
        stderr.write("  answer y, a, n or x\n");
      }
    },
    async confirm(question) {
      const answer = await ask(`${question} [y/N] `).catch(() => "n");
      return answer === "y" || answer === "yes";
    },
    close() {
      rl.close();
      input.destroy();
    },
  };
}

/** Control characters made visible (`\x1b` → `\u001b`), so text cannot move the cursor or clear lines. */
function visible(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) =>
    c === "\n" ? "⏎" : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
