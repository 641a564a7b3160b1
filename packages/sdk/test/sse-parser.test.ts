// The SSE parser against the format as the HTML standard defines it, fed in chunks of every size.
import { describe, expect, it } from "vitest";
import { readSse, type SseItem, SseParser } from "../src/index.ts";

/** Parses `text` split into chunks of `size` characters. */
function parseInChunks(text: string, size: number): SseItem[] {
  const parser = new SseParser();
  const items: SseItem[] = [];
  for (let i = 0; i < text.length; i += size) items.push(...parser.push(text.slice(i, i + size)));
  return items;
}

/** Parses `text` whole and in chunks of 1, 2, 3, 5 and 7 characters; all must agree. */
function parse(text: string): SseItem[] {
  const whole = parseInChunks(text, text.length || 1);
  for (const size of [1, 2, 3, 5, 7]) expect(parseInChunks(text, size)).toEqual(whole);
  return whole;
}

describe("SseParser", () => {
  it("reads id, event and data fields and dispatches on a blank line", () => {
    expect(parse('id: 7\nevent: turn/started\ndata: {"seq":7}\n\n')).toEqual([
      { type: "message", event: "turn/started", data: '{"seq":7}', id: "7" },
    ]);
  });

  it("joins multi-line data with newlines and defaults the event name to message", () => {
    expect(parse("data: first\ndata:second\ndata:  third\n\n")).toEqual([
      { type: "message", event: "message", data: "first\nsecond\n third", id: "" },
    ]);
  });

  it("accepts CRLF, CR and LF line ends, even when a CRLF is split across chunks", () => {
    const text = "data: a\r\n\r\ndata: b\r\rdata: c\n\n";
    expect(parse(text).map((i) => (i.type === "message" ? i.data : i.type))).toEqual(["a", "b", "c"]);
    const parser = new SseParser();
    const items = [...parser.push("data: x\r"), ...parser.push(""), ...parser.push("\ndata: y\n\n")];
    expect(items).toEqual([{ type: "message", event: "message", data: "x\ny", id: "" }]);
  });

  it("reports comments (keep-alives) and valid retry fields, and ignores unknown fields and bad retries", () => {
    expect(parse(": keep-alive\n\nretry: 1500\nretry: soon\nfoo: bar\ndata\n\n")).toEqual([
      { type: "comment", text: "keep-alive" },
      { type: "retry", ms: 1500 },
      { type: "message", event: "message", data: "", id: "" },
    ]);
  });

  it("keeps the last id across messages, ignores ids holding NUL, and dispatches nothing for a block without data", () => {
    expect(parse("id: 1\ndata: a\n\nevent: x\n\ndata: b\n\nid: 2\0\ndata: c\n\nid\ndata: d\n\n")).toEqual([
      { type: "message", event: "message", data: "a", id: "1" },
      { type: "message", event: "message", data: "b", id: "1" },
      { type: "message", event: "message", data: "c", id: "1" },
      { type: "message", event: "message", data: "d", id: "" },
    ]);
  });

  it("strips a leading byte order mark", () => {
    expect(parse("\uFEFFdata: bom\n\n")).toEqual([
      { type: "message", event: "message", data: "bom", id: "" },
    ]);
  });
});

describe("readSse", () => {
  it("decodes UTF-8 split inside a character and drops a block the end of the stream cut off", async () => {
    const bytes = new TextEncoder().encode('data: {"text":"héllo ✓"}\n\ndata: cut off');
    const split = bytes.indexOf(0xc3) + 1; // inside the two bytes of "é"
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.slice(0, split));
        controller.enqueue(bytes.slice(split));
        controller.close();
      },
    });
    const items: SseItem[] = [];
    for await (const item of readSse(body)) items.push(item);
    expect(items).toEqual([{ type: "message", event: "message", data: '{"text":"héllo ✓"}', id: "" }]);
  });
});
