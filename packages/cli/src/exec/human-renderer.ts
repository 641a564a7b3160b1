// Readable progress for a person: everything on stderr, the agent's final message on stdout (so
// `kiln exec "…" > answer.md` captures just the answer), as `codex exec` does.
import { assertNever, type EventEnvelope, type ThreadItem } from "@kiln/protocol";
import pc from "picocolors";

type Colors = ReturnType<typeof pc.createColors>;

/** Renders events as they come. */
export interface HumanRenderer {
  render(envelope: EventEnvelope): void;
}

const OUTPUT_HEAD_LINES = 20;
const OUTPUT_TAIL_LINES = 5;

/** A renderer writing to the given streams. */
export function createHumanRenderer(
  stderr: NodeJS.WritableStream,
  stdout: NodeJS.WritableStream,
  useColor: boolean,
): HumanRenderer {
  const c: Colors = pc.createColors(useColor);
  const err = (line: string) => stderr.write(`${line}\n`);
  let lastMessage = "";
  let lastWasFinal = false;

  const renderItem = (item: ThreadItem) => {
    switch (item.type) {
      case "agentMessage":
        err(`${c.bold(c.magenta("agent"))}\n${item.text}\n`);
        lastMessage = item.text;
        return;
      case "reasoning":
        err(c.dim(c.italic(`thinking: ${item.text}`)));
        return;
      case "commandExecution": {
        if (item.status === "declined") {
          err(`${c.yellow("✗ declined")} ${c.bold(item.command)}`);
          return;
        }
        const output = clip(item.aggregatedOutput.trimEnd());
        if (output !== "") err(c.dim(output.replace(/^/gm, "  ")));
        const took = item.durationMs === null ? "" : ` in ${item.durationMs} ms`;
        if (item.status === "in_progress")
          err(c.cyan(`  … still running as session ${item.sessionId}${took}`));
        else if (item.exitCode === 0) err(c.green(`  ✓ exit 0${took}`));
        else err(c.red(`  ✗ exit ${item.exitCode ?? "?"}${took}`));
        return;
      }
      case "fileChange": {
        const mark = item.status === "completed" ? c.green("✓") : c.red("✗");
        err(
          `${mark} ${c.bold("apply_patch")} ${item.changes.map((ch) => `${kindLetter(ch.kind)} ${ch.movePath ?? ch.path}`).join(", ")}`,
        );
        for (const ch of item.changes) if (ch.diff !== undefined) err(colorDiff(c, ch.diff));
        if (item.error !== undefined) err(c.red(`  ${item.error}`));
        return;
      }
      case "plan":
        err(c.bold("plan"));
        for (const s of item.steps) {
          const box =
            s.status === "completed" ? c.green("[x]") : s.status === "in_progress" ? c.cyan("[~]") : "[ ]";
          err(`  ${box} ${s.step}`);
        }
        return;
      case "error":
        err(c.red(`error: ${item.error.message}`));
        return;
      case "mcpToolCall":
        err(`${c.bold("mcp")} ${item.server}.${item.tool} ${item.status}`);
        return;
      case "toolCall":
        err(`${c.bold("tool")} ${item.tool} ${item.status}`);
        return;
      case "userMessage":
      case "subAgent":
      case "contextCompaction":
      case "approval":
        return;
      default:
        assertNever(item);
    }
  };

  return {
    render({ event }) {
      switch (event.type) {
        case "thread/started":
          err(
            c.dim(
              `kiln · thread ${event.thread.id}\nmodel ${event.thread.model} (${event.thread.modelProvider}) · sandbox ${event.thread.sandbox} · approvals ${event.thread.approvalPolicy} · ${event.thread.cwd}\n`,
            ),
          );
          return;
        case "item/started":
          if (event.item.type === "commandExecution")
            err(`${c.bold(c.cyan("exec"))} ${c.bold(event.item.command)} ${c.dim(`in ${event.item.cwd}`)}`);
          else if (event.item.type === "plan") renderItem(event.item);
          return;
        case "item/updated":
          renderItem(event.item);
          return;
        case "item/completed":
          if (event.item.type !== "plan") renderItem(event.item);
          // The plan is closed after the last message; it does not make that message any less final.
          if (event.item.type !== "plan") lastWasFinal = event.item.type === "agentMessage";
          return;
        case "model/retrying":
          err(c.yellow(`Reconnecting... ${event.attempt}/${event.maxAttempts} (${event.error.message})`));
          return;
        case "warning":
          err(c.yellow(`warning: ${event.message}`));
          return;
        case "turn/completed":
          err(
            c.dim(
              `tokens used: ${event.usage.totalTokens.toLocaleString("en-US")} (input ${event.usage.inputTokens}, cached ${event.usage.cachedInputTokens}, output ${event.usage.outputTokens})`,
            ),
          );
          if (event.status === "completed") {
            if (lastWasFinal && lastMessage !== "") stdout.write(`${lastMessage}\n`);
            return;
          }
          err(c.red(`turn ${event.status}: ${event.error?.message ?? ""}`));
          return;
        case "subAgent/item":
          if (event.item.type === "agentMessage" || event.item.type === "commandExecution") {
            err(
              c.dim(
                `  [sub-agent ${event.childThreadId.slice(-6)}] ${event.item.type === "agentMessage" ? event.item.text.split("\n")[0] : `exec ${event.item.command}`}`,
              ),
            );
          }
          return;
        case "subAgent/turnCompleted":
          err(c.dim(`  [sub-agent ${event.childThreadId.slice(-6)}] turn ${event.status}`));
          return;
        case "turn/started":
        case "item/agentMessage/delta":
        case "item/reasoning/delta":
        case "item/commandExecution/outputDelta":
        case "usage/updated":
          return;
        default:
          assertNever(event);
      }
    },
  };
}

function kindLetter(kind: "add" | "delete" | "update"): string {
  return kind === "add" ? "A" : kind === "delete" ? "D" : "M";
}

function clip(text: string): string {
  const lines = text.split("\n");
  if (lines.length <= OUTPUT_HEAD_LINES + OUTPUT_TAIL_LINES) return text;
  const hidden = lines.length - OUTPUT_HEAD_LINES - OUTPUT_TAIL_LINES;
  return [
    ...lines.slice(0, OUTPUT_HEAD_LINES),
    `… ${hidden} more lines …`,
    ...lines.slice(-OUTPUT_TAIL_LINES),
  ].join("\n");
}

function colorDiff(c: Colors, diff: string): string {
  return diff
    .split("\n")
    .filter((l) => !l.startsWith("===") && l !== "")
    .map((l) =>
      l.startsWith("+") && !l.startsWith("+++")
        ? c.green(`  ${l}`)
        : l.startsWith("-") && !l.startsWith("---")
          ? c.red(`  ${l}`)
          : c.dim(`  ${l}`),
    )
    .join("\n");
}
