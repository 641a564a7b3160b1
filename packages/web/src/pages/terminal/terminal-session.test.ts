// The terminal protocol on the page's side: server messages are checked (anything else is ignored),
// and each phase reads as a sentence.
import { describe, expect, it } from "vitest";
import { describePhase, parseServerMessage } from "./terminal-session.ts";

describe("parseServerMessage", () => {
  it("takes the server's output, exit and error messages", () => {
    expect(parseServerMessage('{"type":"output","data":"hi\\r\\n"}')).toEqual({
      type: "output",
      data: "hi\r\n",
    });
    expect(parseServerMessage('{"type":"exit","exitCode":0,"signal":null}')).toEqual({
      type: "exit",
      exitCode: 0,
      signal: null,
    });
    expect(
      parseServerMessage('{"type":"error","error":{"code":"not_found","message":"no sandbox"}}'),
    ).toEqual({
      type: "error",
      error: { code: "not_found", message: "no sandbox" },
    });
  });

  it("ignores what is not a message of the protocol", () => {
    expect(
      ["not json", '{"type":"bell"}', '{"type":"output"}', new ArrayBuffer(2)].map(parseServerMessage),
    ).toEqual([undefined, undefined, undefined, undefined]);
  });
});

describe("describePhase", () => {
  it("says where the session is", () => {
    expect(
      [
        { type: "connecting" } as const,
        { type: "open" } as const,
        { type: "exited", exitCode: 0, signal: null } as const,
        { type: "exited", exitCode: null, signal: "SIGKILL" } as const,
        { type: "closed", reason: "the connection was lost" } as const,
      ].map(describePhase),
    ).toEqual([
      "Connecting…",
      "Connected",
      "The shell exited with code 0.",
      "The shell was stopped by SIGKILL.",
      "Disconnected: the connection was lost.",
    ]);
  });
});
