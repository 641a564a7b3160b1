// Envelopes as Server-Sent Events bytes: `id:` the seq, `event:` the event type, `data:` the envelope
// as JSON (JSON text has no raw line breaks, so it is one `data:` line). Every subscriber of a thread
// gets the same batch array from the hub, so its frames are encoded once (one Buffer) and that Buffer
// is written to every subscriber: with 200 subscribers, per-subscriber serialisation was most of the
// delivery time.
import type { EventEnvelope } from "@kiln/protocol";

const batches = new WeakMap<readonly EventEnvelope[], Buffer>();
const jsons = new WeakMap<EventEnvelope, string>();

/** The envelope as JSON, computed once per envelope object (the WebSocket sends it as is). */
export function envelopeJson(envelope: EventEnvelope): string {
  let json = jsons.get(envelope);
  if (json === undefined) {
    json = JSON.stringify(envelope);
    jsons.set(envelope, json);
  }
  return json;
}

/** The SSE text of one envelope. */
function frameText(envelope: EventEnvelope): string {
  return `id: ${envelope.seq}\nevent: ${envelope.event.type}\ndata: ${envelopeJson(envelope)}\n\n`;
}

/**
 * The SSE frames of `envelopes`, in order, as one Buffer. A batch from the hub is encoded once and the
 * same Buffer is returned to every caller (never write into it); other arrays (a store page, a slow
 * subscriber's backlog) are encoded for the caller.
 */
export function sseFrames(envelopes: readonly EventEnvelope[], shared = false): Buffer {
  if (!shared) return encode(envelopes);
  let bytes = batches.get(envelopes);
  if (bytes === undefined) {
    bytes = encode(envelopes);
    batches.set(envelopes, bytes);
  }
  return bytes;
}

function encode(envelopes: readonly EventEnvelope[]): Buffer {
  let text = "";
  for (const envelope of envelopes) text += frameText(envelope);
  return Buffer.from(text, "utf8");
}

/** A comment line: keeps proxies from closing an idle stream; EventSource ignores it. */
export const SSE_KEEP_ALIVE: Buffer = Buffer.from(": keep-alive\n\n", "utf8");

/** An `event: error` frame (no id: a reconnect resumes after the last event, not after this). */
export function sseErrorFrame(payload: unknown): Buffer {
  return Buffer.from(`event: error\ndata: ${JSON.stringify(payload)}\n\n`, "utf8");
}
