/** One Server-Sent Event as written to the wire. */
export interface SseFrame {
  /** The `event:` line; omitted on Chat Completions, which sends only `data:` lines. */
  event?: string;
  /** The `data:` payload (JSON, or `[DONE]`). */
  data: string;
}

/** A rendered stream: its frames, and where a `disconnect` fault cuts it by default. */
export interface RenderedStream {
  frames: SseFrame[];
  /** Frames sent before a default disconnect: up to the end of the first output item. */
  defaultDisconnectAfter: number;
}

/** Serializes a frame: `event: <type>` (when present), `data: <json>`, blank line. */
export function formatSseFrame(frame: SseFrame): string {
  const event = frame.event === undefined ? "" : `event: ${frame.event}\n`;
  return `${event}data: ${frame.data}\n\n`;
}
