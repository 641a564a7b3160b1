// A summary of the model's reasoning: collapsed by default, as it is secondary to what the agent did.
import { memo } from "react";
import { Markdown } from "./markdown.tsx";

/** Props of {@link ReasoningBlock}. */
export interface ReasoningBlockProps {
  text: string;
  streaming?: boolean;
}

/** The reasoning summary in a collapsed `<details>`. */
export const ReasoningBlock = memo(function ReasoningBlock({ text, streaming = false }: ReasoningBlockProps) {
  return (
    <details className="event reasoning">
      <summary>{streaming ? "Thinking…" : "Reasoning"}</summary>
      <Markdown text={text} className="reasoning-text" />
    </details>
  );
});
