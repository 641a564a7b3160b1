// A thread's activity as a list: the user's prompts, the agent's messages, reasoning, commands, file
// changes, plans, approvals, tool calls, errors, and a marker where each turn ended. Give it the
// envelopes (it folds them, deduplicated by seq) or a timeline already folded (useThreadEvents).
import {
  type ApprovalDecisionInput,
  type ApprovalItem,
  assertNever,
  type EventEnvelope,
  type ThreadItem,
} from "@kiln/protocol";
import { memo, useMemo } from "react";
import { formatDuration } from "../lib/format.ts";
import { AgentMessage } from "./agent-message.tsx";
import { ApprovalCard } from "./approval-card.tsx";
import { CommandCard } from "./command-card.tsx";
import type { DiffMode } from "./diff-view.tsx";
import { FileChangeCard } from "./file-change-card.tsx";
import { foldEvents, type ItemState, type TimelineEntry, type TimelineState } from "./fold-events.ts";
import { PlanChecklist } from "./plan-checklist.tsx";
import { ReasoningBlock } from "./reasoning-block.tsx";
import { SubAgentCard, ToolCallCard } from "./tool-call-card.tsx";
import { UsageBadge } from "./usage-badge.tsx";

/** Sends a decision on an approval (e.g. `client.approvals.respond(approval.id, decision)`). */
export type ApprovalDecisionHandler = (
  approval: ApprovalItem,
  decision: ApprovalDecisionInput,
) => Promise<unknown> | undefined;

/** Props of {@link EventTimeline}: `events` or a folded `timeline`. */
export type EventTimelineProps = (
  | { events: readonly EventEnvelope[]; timeline?: undefined }
  | { timeline: TimelineState; events?: undefined }
) & {
  /** Without it, approvals are shown without buttons. */
  onApprovalDecision?: ApprovalDecisionHandler;
  /** The diff layout file-change cards start with (default: the user's last choice). */
  diffMode?: DiffMode;
  /** Its accessible name (default "Agent activity"). */
  label?: string;
};

/** The thread's events, folded and rendered. */
export const EventTimeline = memo(function EventTimeline(props: EventTimelineProps) {
  const { events, onApprovalDecision, diffMode, label = "Agent activity" } = props;
  const folded = useMemo(() => (events === undefined ? undefined : foldEvents(events)), [events]);
  const timeline = props.timeline ?? folded!;
  return (
    <div className="timeline-wrap">
      <ol className="timeline" aria-label={label}>
        {timeline.entries.map((entry) => (
          <li
            key={entry.key}
            className={`timeline-entry entry-${entry.type === "item" ? entry.item.type : entry.type}`}
          >
            <Entry
              entry={entry}
              timeline={timeline}
              onApprovalDecision={onApprovalDecision}
              diffMode={diffMode}
            />
          </li>
        ))}
      </ol>
      {timeline.runningTurnId !== undefined && (
        <p className="working" role="status">
          <span className="spinner" aria-hidden="true" /> Agent is working…
        </p>
      )}
    </div>
  );
});

interface EntryProps {
  entry: TimelineEntry;
  timeline: TimelineState;
  onApprovalDecision: ApprovalDecisionHandler | undefined;
  diffMode: DiffMode | undefined;
}

function Entry({ entry, timeline, onApprovalDecision, diffMode }: EntryProps) {
  switch (entry.type) {
    case "item":
      return (
        <ItemView
          item={entry.item}
          state={entry.state}
          startedAt={entry.startedAt}
          timeline={timeline}
          onApprovalDecision={onApprovalDecision}
          diffMode={diffMode}
        />
      );
    case "turn":
      return <TurnMarker entry={entry} />;
    case "notice":
      return <p className={`notice notice-${entry.level}`}>{entry.message}</p>;
    default:
      return assertNever(entry);
  }
}

interface ItemViewProps {
  item: ThreadItem;
  state: ItemState;
  startedAt: number;
  timeline: TimelineState;
  onApprovalDecision: ApprovalDecisionHandler | undefined;
  diffMode: DiffMode | undefined;
}

/** One item, by type. */
export function ItemView({ item, state, startedAt, timeline, onApprovalDecision, diffMode }: ItemViewProps) {
  const streaming = state === "streaming";
  switch (item.type) {
    case "userMessage":
      return (
        <article className="event user-message" aria-label="Your message">
          {item.content.map((part, i) =>
            part.type === "text" ? (
              // biome-ignore lint/suspicious/noArrayIndexKey: the parts of a message never reorder
              <p key={i} className="user-text">
                {part.text}
              </p>
            ) : (
              // biome-ignore lint/suspicious/noArrayIndexKey: the parts of a message never reorder
              <p key={i} className="muted">
                Image: {part.path}
              </p>
            ),
          )}
        </article>
      );
    case "agentMessage":
      return <AgentMessage text={item.text} streaming={streaming} />;
    case "reasoning":
      return <ReasoningBlock text={item.text} streaming={streaming} />;
    case "commandExecution":
      return <CommandCard item={item} state={state} startedAt={startedAt} />;
    case "fileChange":
      return <FileChangeCard item={item} {...(diffMode === undefined ? {} : { mode: diffMode })} />;
    case "plan":
      return (
        <PlanChecklist
          steps={item.steps}
          {...(item.explanation === undefined ? {} : { explanation: item.explanation })}
        />
      );
    case "approval":
      return (
        <ApprovalCard
          approval={item}
          state={state}
          {...(onApprovalDecision === undefined
            ? {}
            : { onDecision: (decision: ApprovalDecisionInput) => onApprovalDecision(item, decision) })}
        />
      );
    case "mcpToolCall":
    case "toolCall":
      return <ToolCallCard item={item} />;
    case "subAgent":
      return <SubAgentCard item={item} steps={timeline.subAgentItems[item.childThreadId] ?? []} />;
    case "contextCompaction":
      return (
        <p className="notice">
          Earlier conversation summarized ({item.tokensBefore} → {item.tokensAfter} tokens).
        </p>
      );
    case "error":
      return (
        <p className="event error-item" role="alert">
          {item.error.message}
        </p>
      );
    default:
      return assertNever(item);
  }
}

function TurnMarker({ entry }: { entry: Extract<TimelineEntry, { type: "turn" }> }) {
  if (entry.status === "in_progress") return null;
  const took =
    entry.completedAt === undefined ? undefined : formatDuration(entry.completedAt - entry.startedAt);
  const words = { completed: "Turn completed", failed: "Turn failed", interrupted: "Turn interrupted" }[
    entry.status
  ];
  return (
    <div className={`turn-marker turn-${entry.status}`}>
      <span>
        {words}
        {took !== undefined && ` in ${took}`}
      </span>
      {entry.usage !== undefined && <UsageBadge usage={entry.usage} label="Turn usage" />}
      {entry.error !== undefined && <p className="error">{entry.error.message}</p>}
    </div>
  );
}
