import { describe, expect, it } from "vitest";
import { createSetupLog } from "./setup-log.ts";

const notice = (kib: number) =>
  `\n[Kiln: the setup script printed more than ${kib} KiB; the rest of its output is not logged.]\n`;

describe("setup log limit", () => {
  it("stops at the last whole line that fits, whatever the chunk sizes", () => {
    const out: string[] = [];
    const log = createSetupLog((text) => out.push(text), [], 1024);
    // 170 lines of 6 bytes fill 1020 bytes; the next chunk's first line does not fit in the 4 left.
    log.write("hello\n".repeat(170));
    log.write("hello\n".repeat(10));
    log.end();
    expect(out.join("")).toBe(`${"hello\n".repeat(170)}${notice(1)}`);
  });

  it("cuts a line too long to wait for its newline, never inside a character", () => {
    const out: string[] = [];
    const log = createSetupLog((text) => out.push(text), [], 1024);
    log.write("é".repeat(20_000));
    log.end();
    expect(out.join("")).toBe(`${"é".repeat(512)}${notice(1)}`);
  });
});
