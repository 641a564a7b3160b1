// A message box with a send button: Ctrl/⌘+Enter sends; the text stays when sending fails.
import { type FormEvent, type KeyboardEvent, type ReactNode, useState } from "react";
import { ErrorAlert } from "../../components/error-alert.tsx";

/** Props of {@link Composer}. */
export interface ComposerProps {
  /** The textarea's label. */
  label: string;
  /** The button's text. */
  action: string;
  placeholder?: string;
  /** Sends the text; a rejection is shown and the text kept. */
  onSend: (text: string) => Promise<unknown>;
  disabled?: boolean;
  /** Extra controls beside the button (e.g. which attempt). */
  extra?: ReactNode;
  rows?: number;
}

/** A form with a textarea and a send button. */
export function Composer({
  label,
  action,
  placeholder,
  onSend,
  disabled = false,
  extra,
  rows = 2,
}: ComposerProps) {
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const send = async (event?: FormEvent) => {
    event?.preventDefault();
    if (busy || text.trim() === "") return;
    setBusy(true);
    setError(undefined);
    try {
      await onSend(text);
      setText("");
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      void send();
    }
  };
  return (
    <form className="composer" onSubmit={send} aria-label={label}>
      <label className="composer-field">
        <span className="sr-only">{label}</span>
        <textarea
          rows={rows}
          value={text}
          placeholder={placeholder ?? label}
          disabled={disabled}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={onKeyDown}
        />
      </label>
      <div className="composer-actions">
        {extra}
        <button type="submit" className="primary" disabled={disabled || busy || text.trim() === ""}>
          {busy ? "Sending…" : action}
        </button>
      </div>
      <ErrorAlert error={error} prefix={`Could not ${action.toLowerCase()}`} />
    </form>
  );
}
