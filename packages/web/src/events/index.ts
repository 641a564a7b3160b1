// The event-rendering pieces shared by the task view and the chat threads: fold a thread's events,
// follow them live, and render them.
export { AgentMessage, type AgentMessageProps } from "./agent-message.tsx";
export { ApprovalCard, type ApprovalCardProps } from "./approval-card.tsx";
export { CommandCard, type CommandCardProps } from "./command-card.tsx";
export {
  DiffCounts,
  type DiffMode,
  DiffModeToggle,
  DiffView,
  type DiffViewProps,
  useDiffMode,
} from "./diff-view.tsx";
export {
  type ApprovalDecisionHandler,
  EventTimeline,
  type EventTimelineProps,
  ItemView,
} from "./event-timeline.tsx";
export { FileChangeCard, type FileChangeCardProps } from "./file-change-card.tsx";
export {
  applyEvents,
  EMPTY_TIMELINE,
  foldEvents,
  type ItemState,
  pendingApprovals,
  type TimelineEntry,
  type TimelineState,
  type TimelineUsage,
} from "./fold-events.ts";
export { escapeHtml, highlightCode, languageOfPath } from "./highlight.ts";
export { Markdown, type MarkdownProps } from "./markdown.tsx";
export {
  type DiffFile,
  type DiffHunk,
  type DiffLine,
  type FileDiffText,
  parseDiff,
  type SplitRow,
  splitDiffByFile,
  splitRows,
} from "./parse-diff.ts";
export { PlanChecklist, type PlanChecklistProps } from "./plan-checklist.tsx";
export { ReasoningBlock, type ReasoningBlockProps } from "./reasoning-block.tsx";
export { renderMarkdown } from "./render-markdown.ts";
export {
  SubAgentCard,
  type SubAgentCardProps,
  ToolCallCard,
  type ToolCallCardProps,
} from "./tool-call-card.tsx";
export { UsageBadge, type UsageBadgeProps } from "./usage-badge.tsx";
export { type StreamStatus, type ThreadEvents, useThreadEvents } from "./use-thread-events.ts";
