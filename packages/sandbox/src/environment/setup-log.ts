/** How much of a setup script's output becomes log events. */
export const setupLogLimitBytes = 1024 * 1024;

/** A partial line longer than this is logged without waiting for its newline. */
const maxPendingChars = 16 * 1024;

/** How much of the end of the output is kept for an error message. */
const tailChars = 8 * 1024;
const tailLines = 20;

/** Secrets shorter than this are not masked: masking "1" or "yes" would garble every log line. */
const minMaskedLength = 4;

/** Turns a setup script's output into bounded, secret-free log chunks. */
export interface SetupLog {
  /** Takes output as the command printed it. */
  write(chunk: string): void;
  /** Logs what is still buffered (a last line without a newline). */
  end(): void;
  /** The last lines of the output (secrets masked), for an error message. */
  tail(): string;
}

/**
 * Creates a setup log that calls `emit` with whole lines (several per call when they arrive together),
 * masks the values of `secrets`, and stops after {@link setupLogLimitBytes} with a notice. Lines are
 * kept whole so that a secret is never split across two chunks where masking could not see it.
 */
export function createSetupLog(
  emit: (text: string) => void,
  secrets: string[],
  limitBytes = setupLogLimitBytes,
): SetupLog {
  const masked = [...new Set(secrets)]
    .filter((value) => value.length >= minMaskedLength)
    .sort((a, b) => b.length - a.length);
  const mask = (text: string) => masked.reduce((out, secret) => out.replaceAll(secret, "***"), text);

  let pending = "";
  let logged = 0;
  let truncated = false;
  let recent = "";

  const send = (raw: string) => {
    if (raw === "") return;
    const text = mask(raw);
    recent = (recent + text).slice(-tailChars);
    if (truncated) return;
    const bytes = Buffer.byteLength(text);
    if (logged + bytes <= limitBytes) {
      logged += bytes;
      emit(text);
      return;
    }
    truncated = true;
    const room = Buffer.from(text)
      .subarray(0, limitBytes - logged)
      .toString("utf8");
    // Cut at a line end when there is one, and never inside a multi-byte character. Lines that do not
    // fit are left out whole; only a line too long to wait for (no newline in the text) is cut.
    const cut = room.lastIndexOf("\n");
    const partial = text.includes("\n") ? "" : room;
    const head = (cut >= 0 ? room.slice(0, cut + 1) : partial).replace(/\uFFFD$/, "");
    if (head !== "") emit(head);
    emit(
      `\n[Kiln: the setup script printed more than ${Math.round(limitBytes / 1024)} KiB; the rest of its output is not logged.]\n`,
    );
  };

  return {
    write(chunk) {
      pending += chunk;
      const end = pending.lastIndexOf("\n");
      if (end >= 0) {
        send(pending.slice(0, end + 1));
        pending = pending.slice(end + 1);
      }
      if (pending.length > maxPendingChars) {
        send(pending);
        pending = "";
      }
    },
    end() {
      send(pending);
      pending = "";
    },
    tail() {
      const lines = (recent + mask(pending)).replace(/\n+$/, "").split("\n");
      return lines.slice(-tailLines).join("\n");
    },
  };
}
