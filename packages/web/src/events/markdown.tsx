// The model's markdown as a React element (see render-markdown.ts for what makes it safe).
import { memo, useMemo } from "react";
import { renderMarkdown } from "./render-markdown.ts";

/** Props of {@link Markdown}. */
export interface MarkdownProps {
  text: string;
  className?: string;
}

/** Renders the model's markdown (sanitized, code highlighted). */
export const Markdown = memo(function Markdown({ text, className }: MarkdownProps) {
  const html = useMemo(() => renderMarkdown(text), [text]);
  return (
    <div
      className={className === undefined ? "markdown" : `markdown ${className}`}
      // biome-ignore lint/security/noDangerouslySetInnerHtml: sanitized by DOMPurify in renderMarkdown
      dangerouslySetInnerHTML={{ __html: html }}
    />
  );
});
