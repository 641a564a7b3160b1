// Calls to MCP tools and other tools, and sub-agents: what was called, with what, and what came back.
import type { McpToolCallItem, SubAgentItem, ThreadItem, ToolCallItem } from "@kiln/protocol";
import { memo } from "react";
import { Markdown } from "./markdown.tsx";

/** Props of {@link ToolCallCard}. */
export interface ToolCallCardProps {
  item: McpToolCallItem | ToolCallItem;
}

/** A tool call: name, arguments (collapsed), result or error. */
export const ToolCallCard = memo(function ToolCallCard({ item }: ToolCallCardProps) {
  const name = item.type === "mcpToolCall" ? `${item.server}.${item.tool}` : item.tool;
  const result = item.type === "mcpToolCall" ? item.result : item.output;
  const error = item.type === "mcpToolCall" ? item.error : undefined;
  return (
    <article className={`event card tool-card status-${item.status}`} aria-label={`Tool call: ${name}`}>
      <header className="card-header">
        <code>{name}</code>
        <span className={`pill pill-${item.status}`}>{item.status.replace("_", " ")}</span>
      </header>
      <details>
        <summary>Arguments</summary>
        <pre>{show(item.arguments)}</pre>
      </details>
      {result !== undefined && (
        <details>
          <summary>Result</summary>
          <pre>{show(result)}</pre>
        </details>
      )}
      {error !== undefined && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </article>
  );
});

/** Props of {@link SubAgentCard}. */
export interface SubAgentCardProps {
  item: SubAgentItem;
  /** Items the sub-agent completed in its own thread. */
  steps?: readonly ThreadItem[];
}

/** A sub-agent: its prompt, its progress, its result. */
export const SubAgentCard = memo(function SubAgentCard({ item, steps = [] }: SubAgentCardProps) {
  return (
    <article className={`event card subagent-card status-${item.status}`} aria-label="Sub-agent">
      <header className="card-header">
        <strong>Sub-agent</strong>
        <span className={`pill pill-${item.status}`}>{item.status.replace("_", " ")}</span>
      </header>
      <p className="subagent-prompt">{item.prompt}</p>
      {steps.length > 0 && (
        <details>
          <summary>{steps.length} steps</summary>
          <ul className="subagent-steps">
            {steps.map((child) => (
              <li key={child.id}>{describe(child)}</li>
            ))}
          </ul>
        </details>
      )}
      {item.result !== undefined && <Markdown text={item.result} />}
    </article>
  );
});

function describe(item: ThreadItem): string {
  switch (item.type) {
    case "commandExecution":
      return `$ ${item.command}${item.exitCode === null ? "" : ` (exit ${item.exitCode})`}`;
    case "fileChange":
      return `Changed ${item.changes.map((c) => c.path).join(", ")}`;
    case "agentMessage":
    case "reasoning":
      return item.text.slice(0, 200);
    default:
      return item.type;
  }
}

function show(value: unknown): string {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    return String(value);
  }
}
