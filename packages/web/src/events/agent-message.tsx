// What the agent said: its markdown, streaming in as deltas arrive.
import { memo } from "react";
import { Markdown } from "./markdown.tsx";

/** Props of {@link AgentMessage}. */
export interface AgentMessageProps {
  text: string;
  /** Still arriving (shows a caret and marks the region busy). */
  streaming?: boolean;
}

/** The agent's message, rendered as sanitized markdown with highlighted code. */
export const AgentMessage = memo(function AgentMessage({ text, streaming = false }: AgentMessageProps) {
  return (
    <article className="event agent-message" aria-label="Agent message" aria-busy={streaming}>
      <Markdown text={text} />
      {streaming && <span className="caret" aria-hidden="true" />}
    </article>
  );
});
