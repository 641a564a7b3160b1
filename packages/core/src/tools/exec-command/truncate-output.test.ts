import { describe, expect, it } from "vitest";
import { BYTES_PER_TOKEN, estimateTokens, truncateOutput } from "./truncate-output.ts";

describe("estimateTokens", () => {
  it("counts four UTF-8 bytes per token, rounding up", () => {
    expect(BYTES_PER_TOKEN).toBe(4);
    expect(["", "abcd", "abcde", "é", "😀😀"].map(estimateTokens)).toEqual([0, 1, 2, 1, 2]);
  });
});

describe("truncateOutput", () => {
  it("returns text that fits the budget unchanged, up to exactly the limit", () => {
    expect(truncateOutput("short", 10)).toBe("short");
    expect(truncateOutput("x".repeat(40), 10)).toBe("x".repeat(40));
  });

  it("keeps the head and the tail and counts the tokens cut from the middle", () => {
    const text = `HEAD${"x".repeat(1000)}TAIL`;

    expect(truncateOutput(text, 2)).toBe("HEAD\n…250 tokens truncated…\nTAIL");
  });

  it("splits the budget evenly between head and tail", () => {
    const text = Array.from({ length: 100 }, (_, i) => `line ${String(i).padStart(2, "0")}\n`).join("");
    const out = truncateOutput(text, 10);

    expect(out).toBe("line 00\nline 01\nline\n…190 tokens truncated…\n 97\nline 98\nline 99\n");
    expect(estimateTokens(text.slice(20, -20))).toBe(190);
  });

  it("cuts everything when the budget is zero or negative", () => {
    expect(truncateOutput("abcdefgh", 0)).toBe("\n…2 tokens truncated…\n");
    expect(truncateOutput("abcdefgh", -5)).toBe("\n…2 tokens truncated…\n");
  });

  it("counts the cut part in UTF-8 bytes", () => {
    expect(truncateOutput(`ab${"é".repeat(10)}cd`, 1)).toBe("ab\n…5 tokens truncated…\ncd");
  });

  // BUG: the budget is compared with `text.length` (UTF-16 units) although a token is four UTF-8 bytes,
  // so non-ASCII output (accents, CJK, emoji) keeps two to four times the bytes the cap allows.
  it("caps multi-byte text by its UTF-8 bytes, as estimateTokens counts them", () => {
    expect(truncateOutput("é".repeat(100), 10)).toBe(
      `${"é".repeat(10)}\n…40 tokens truncated…\n${"é".repeat(10)}`,
    );
  });

  // BUG: slicing at UTF-16 offsets can cut a surrogate pair, leaving half an emoji that UTF-8 encoding
  // turns into U+FFFD.
  it("never cuts a character in two", () => {
    const out = truncateOutput(`a${"😀".repeat(10)}`, 1);

    expect(Buffer.from(out, "utf8").toString("utf8")).toBe(out);
  });
});
