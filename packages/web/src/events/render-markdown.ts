// Markdown from the model, rendered safely: marked (GitHub flavour) → code blocks highlighted →
// DOMPurify, which keeps only inert HTML (no script, no event handler, no javascript: URL), so
// that text a model was tricked into writing cannot run in the page. Links open in a new tab.
import DOMPurify from "dompurify";
import { Marked, type Tokens } from "marked";
import { escapeHtml, highlightCode, isKnownLanguage } from "./highlight.ts";

const marked = new Marked({ gfm: true, breaks: false, async: false });
marked.use({
  renderer: {
    code(token: Tokens.Code): string {
      const language = (token.lang ?? "").trim().split(/\s+/)[0] ?? "";
      const known = language !== "" && isKnownLanguage(language);
      const html = known ? highlightCode(token.text, language) : escapeHtml(token.text);
      const label = language === "" ? "" : ` data-language="${escapeHtml(language)}"`;
      const className = known ? `hljs language-${escapeHtml(language)}` : "hljs";
      return `<pre class="code-block"${label}><code class="${className}">${html}</code></pre>\n`;
    },
  },
});

let hooked = false;
function purifier(): typeof DOMPurify {
  if (!hooked) {
    hooked = true;
    DOMPurify.addHook("afterSanitizeAttributes", (node) => {
      if (node.tagName === "A" && node.hasAttribute("href")) {
        node.setAttribute("target", "_blank");
        node.setAttribute("rel", "noopener noreferrer");
      }
    });
  }
  return DOMPurify;
}

/** Markdown as sanitized HTML (safe to insert into the page). */
export function renderMarkdown(text: string): string {
  const html = marked.parse(text, { async: false });
  return purifier().sanitize(html, { USE_PROFILES: { html: true }, FORBID_TAGS: ["style", "form"] });
}
