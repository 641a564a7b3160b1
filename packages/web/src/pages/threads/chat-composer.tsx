// The chat's composer: Enter sends, Shift+Enter starts a new line (and Enter while an input method is
// composing a character is the IME's, not ours). While a turn runs, what is sent steers that turn, and
// a Stop button interrupts it.
import { type FormEvent, type KeyboardEvent, useId, useState } from "react";
import { errorMessage } from "../../lib/format.ts";

/** Props of {@link ChatComposer}. */
export interface ChatComposerProps {
  /** A turn is running: sending steers it, and Stop is offered. */
  running: boolean;
  /** Sends the text (starts a turn, or steers the running one); the box is cleared once it resolves. */
  onSend: (text: string) => Promise<void>;
  /** Interrupts the running turn. */
  onStop: () => Promise<void>;
  disabled?: boolean;
}

/** The message box under the chat. */
export function ChatComposer({ running, onSend, onStop, disabled = false }: ChatComposerProps) {
  const id = useId();
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);
  const [stopping, setStopping] = useState(false);
  const [failure, setFailure] = useState<string>();

  const send = async () => {
    const message = text.trim();
    if (message === "" || busy || disabled) return;
    setBusy(true);
    setFailure(undefined);
    try {
      await onSend(message);
      setText("");
    } catch (error) {
      setFailure(errorMessage(error));
    } finally {
      setBusy(false);
    }
  };

  const stop = async () => {
    setStopping(true);
    setFailure(undefined);
    try {
      await onStop();
    } catch (error) {
      setFailure(errorMessage(error));
    } finally {
      setStopping(false);
    }
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key !== "Enter" || event.shiftKey || event.nativeEvent.isComposing) return;
    event.preventDefault();
    void send();
  };

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void send();
  };

  return (
    <form className="composer" onSubmit={onSubmit} aria-label="Message the agent">
      <label htmlFor={`${id}-text`} className="sr-only">
        Message
      </label>
      <textarea
        id={`${id}-text`}
        value={text}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={onKeyDown}
        rows={3}
        placeholder={
          running
            ? "Steer the running turn… (Enter to send)"
            : "Message the agent… (Enter to send, Shift+Enter for a new line)"
        }
        disabled={disabled}
        aria-describedby={failure === undefined ? undefined : `${id}-error`}
      />
      <div className="composer-actions">
        {running && (
          <button type="button" onClick={() => void stop()} disabled={stopping} className="danger">
            {stopping ? "Stopping…" : "Stop"}
          </button>
        )}
        <button type="submit" disabled={busy || disabled || text.trim() === ""}>
          {running ? "Steer" : "Send"}
        </button>
      </div>
      {failure !== undefined && (
        <p id={`${id}-error`} role="alert" className="error">
          {failure}
        </p>
      )}
    </form>
  );
}
