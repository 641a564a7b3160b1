// Reads a thread's SSE stream over real HTTP until a condition holds, then hangs up.
import type { EventEnvelope } from "@kiln/protocol";

/** One SSE frame. */
export interface SseFrame {
  id: string | undefined;
  event: string | undefined;
  envelope: EventEnvelope;
}

/** Reads frames from `path` until `until(frame)` is true (or `timeoutMs` passes: then it throws). */
export async function readSse(
  url: string,
  token: string,
  path: string,
  until: (frame: SseFrame, frames: SseFrame[]) => boolean,
  options: { lastEventId?: string; timeoutMs?: number } = {},
): Promise<{ frames: SseFrame[]; comments: number; contentType: string | null }> {
  const abort = new AbortController();
  const timer = setTimeout(
    () => abort.abort(new Error("timed out reading SSE")),
    options.timeoutMs ?? 20_000,
  );
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: "text/event-stream" };
  if (options.lastEventId !== undefined) headers["last-event-id"] = options.lastEventId;
  const frames: SseFrame[] = [];
  let comments = 0;
  try {
    const response = await fetch(`${url}${path}`, { headers, signal: abort.signal });
    if (response.status !== 200 || response.body === null) {
      throw new Error(`SSE ${path}: ${response.status} ${await response.text()}`);
    }
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`SSE ${path} ended after ${frames.length} frames`);
      buffer += value;
      let end = buffer.indexOf("\n\n");
      while (end !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf("\n\n");
        const fields = new Map<string, string>();
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) {
            comments++;
            continue;
          }
          const colon = line.indexOf(":");
          fields.set(line.slice(0, colon), line.slice(colon + 1).trimStart());
        }
        const data = fields.get("data");
        if (data === undefined) continue;
        const frame = {
          id: fields.get("id"),
          event: fields.get("event"),
          envelope: JSON.parse(data) as EventEnvelope,
        };
        frames.push(frame);
        if (until(frame, frames)) {
          abort.abort();
          return { frames, comments, contentType: response.headers.get("content-type") };
        }
      }
    }
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

/** Until the turn's `turn/completed`. */
export const turnCompleted =
  (turnId?: string) =>
  (frame: SseFrame): boolean =>
    frame.envelope.event.type === "turn/completed" &&
    (turnId === undefined || frame.envelope.event.turnId === turnId);
