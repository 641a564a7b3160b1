import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createSecretBox } from "./secret-box.ts";

describe("secret box", () => {
  const box = createSecretBox(randomBytes(32));

  it("seals with AES-256-GCM (12-byte IV, 16-byte tag) and opens to the same text", () => {
    const sealed = box.seal("sk-live-123 ünïcode");
    expect(sealed.iv.length).toBe(12);
    expect(sealed.tag.length).toBe(16);
    expect(sealed.keyVersion).toBe(1);
    expect(Buffer.from(sealed.ciphertext).toString("utf8")).not.toContain("sk-live");
    expect(box.open(sealed)).toBe("sk-live-123 ünïcode");
    expect(box.seal("sk-live-123 ünïcode").iv).not.toEqual(sealed.iv);
  });

  it("refuses a tampered tag, ciphertext or IV, without the plaintext in the error", () => {
    const sealed = box.seal("sk-live-123", "user:u1/OPENAI_API_KEY");
    const flip = (bytes: Uint8Array) => {
      const copy = new Uint8Array(bytes);
      copy[0] = (copy[0] ?? 0) ^ 1;
      return copy;
    };
    for (const tampered of [
      { ...sealed, tag: flip(sealed.tag) },
      { ...sealed, ciphertext: flip(sealed.ciphertext) },
      { ...sealed, iv: flip(sealed.iv) },
    ]) {
      let error: unknown;
      try {
        box.open(tampered, "user:u1/OPENAI_API_KEY");
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({
        code: "internal",
        message: expect.stringContaining("could not be decrypted"),
      });
      expect(String((error as Error).message)).not.toContain("sk-live");
    }
  });

  it("does not open under another context or key", () => {
    const sealed = box.seal("sk-live-123", "user:u1/OPENAI_API_KEY");
    expect(() => box.open(sealed, "user:u2/OPENAI_API_KEY")).toThrow("could not be decrypted");
    expect(() => createSecretBox(randomBytes(32)).open(sealed, "user:u1/OPENAI_API_KEY")).toThrow(
      "could not be decrypted",
    );
    expect(() => createSecretBox(randomBytes(32), 2).open(sealed)).toThrow("key version 1");
  });

  it("needs a 32-byte key", () => {
    expect(() => createSecretBox(randomBytes(16))).toThrow("the secret key must be 32 bytes, not 16");
  });
});
