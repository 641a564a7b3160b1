import { describe, expect, it } from "vitest";
import { redact } from "./redact.ts";

describe("redact", () => {
  it("removes credentials from URLs and every form of a secret", () => {
    const secret = "tok/en+1=";
    const text = [
      "fatal: unable to access 'https://kiln:hunter2@git.example.com/acme/w.git/'",
      `header Authorization: Basic ${Buffer.from(secret).toString("base64")}`,
      `raw ${secret} and encoded ${encodeURIComponent(secret)}`,
    ].join("\n");
    expect(redact(text, [secret])).toBe(
      [
        "fatal: unable to access 'https://***@git.example.com/acme/w.git/'",
        "header Authorization: Basic ***",
        "raw *** and encoded ***",
      ].join("\n"),
    );
  });

  it("leaves text without secrets alone, and ignores secrets too short to mean anything", () => {
    expect(redact("push to /srv/repo.git failed: a b", ["a"])).toBe("push to /srv/repo.git failed: a b");
  });
});
