// A Server-Sent Events parser, as the WHATWG HTML standard defines the format (§9.2.6): lines end in
// CRLF, LF or CR; `data:` lines join with "\n"; a blank line dispatches; `:` lines are comments (the
// server's keep-alives); `id:` persists until changed; `retry:` takes digits only; a block cut off by
// the end of the stream is dropped. Our own because EventSource cannot send an Authorization header.

/** What the parser found in the stream. */
export type SseItem =
  | {
      type: "message";
      /** `event:` (default `message`). */
      event: string;
      /** The `data:` lines joined with "\n". */
      data: string;
      /** The last `id:` seen (it persists across messages), `""` when none. */
      id: string;
    }
  | { type: "comment"; text: string }
  | { type: "retry"; ms: number };

/** Parses text pushed in chunks of any size; feed it the decoded stream. */
export class SseParser {
  #buffer = "";
  #data: string[] = [];
  #event = "";
  #lastId = "";
  #afterCR = false;
  #started = false;

  /** Parses `chunk`; returns what completed in it. */
  push(chunk: string): SseItem[] {
    // An empty chunk (a decoder holding half a character) must not forget a pending CR.
    if (chunk.length === 0) return [];
    let text = chunk;
    if (!this.#started && text.length > 0) {
      this.#started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    // A CR that ended the previous chunk ended a line: an LF right after it is part of that end.
    if (this.#afterCR && text.startsWith("\n")) text = text.slice(1);
    this.#afterCR = false;
    const items: SseItem[] = [];
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      const line = this.#buffer + text.slice(start, i);
      this.#buffer = "";
      this.#line(line, items);
      if (c === 13) {
        if (i + 1 === text.length) this.#afterCR = true;
        else if (text.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
    }
    this.#buffer += text.slice(start);
    return items;
  }

  #line(line: string, items: SseItem[]): void {
    if (line === "") {
      this.#dispatch(items);
      return;
    }
    if (line.startsWith(":")) {
      items.push({ type: "comment", text: line.slice(1).replace(/^ /, "") });
      return;
    }
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
    switch (field) {
      case "event":
        this.#event = value;
        return;
      case "data":
        this.#data.push(value);
        return;
      case "id":
        if (!value.includes("\0")) this.#lastId = value;
        return;
      case "retry":
        if (/^\d+$/.test(value)) items.push({ type: "retry", ms: Number(value) });
        return;
      default:
        // Unknown fields are ignored, as the standard says.
        return;
    }
  }

  #dispatch(items: SseItem[]): void {
    const data = this.#data;
    const event = this.#event;
    this.#data = [];
    this.#event = "";
    if (data.length === 0) return;
    items.push({
      type: "message",
      event: event === "" ? "message" : event,
      data: data.join("\n"),
      id: this.#lastId,
    });
  }
}

/** Reads a response body as SSE items (the body is decoded as UTF-8, split multi-byte characters too). */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseItem> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        yield* parser.push(decoder.decode());
        return;
      }
      yield* parser.push(decoder.decode(value, { stream: true }));
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
