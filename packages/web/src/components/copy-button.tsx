// A button that copies text to the clipboard and says so.
import { useEffect, useState } from "react";

/** Copies `text`: the Clipboard API, or a hidden textarea where it is unavailable (plain http). */
export async function copyText(text: string): Promise<void> {
  if (navigator.clipboard !== undefined && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.append(area);
  area.select();
  try {
    if (!document.execCommand("copy"))
      throw new Error("the browser refused to copy: select the text and copy it");
  } finally {
    area.remove();
  }
}

/** Props of {@link CopyButton}. */
export interface CopyButtonProps {
  text: string;
  /** The button's text, e.g. "Copy PR title". */
  label: string;
  disabled?: boolean;
}

/** A copy button; its text turns to "Copied" (announced) for two seconds. */
export function CopyButton({ text, label, disabled }: CopyButtonProps) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  useEffect(() => {
    if (state === "idle") return;
    const timer = setTimeout(() => setState("idle"), 2000);
    return () => clearTimeout(timer);
  }, [state]);
  return (
    <button
      type="button"
      disabled={disabled}
      onClick={() =>
        copyText(text).then(
          () => setState("copied"),
          () => setState("failed"),
        )
      }
    >
      {label}
      <span className="sr-only" aria-live="polite">
        {state === "copied" ? " (copied)" : state === "failed" ? " (could not copy)" : ""}
      </span>
      {state !== "idle" && (
        <span aria-hidden="true" className="copy-state">
          {state === "copied" ? " ✓" : " ✗"}
        </span>
      )}
    </button>
  );
}
