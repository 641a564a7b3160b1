import { describe, expect, it } from "vitest";
import { hashPassword, verifyPassword } from "./password.ts";

describe("password hashing", () => {
  it("hashes with scrypt N=2^15 r=8 p=1, a 16-byte salt and a 64-byte key", async () => {
    const hash = await hashPassword("correct horse");
    const [scheme, N, r, p, salt, key] = hash.split("$");
    expect([scheme, N, r, p]).toEqual(["scrypt", "32768", "8", "1"]);
    expect(Buffer.from(salt ?? "", "base64url").length).toBe(16);
    expect(Buffer.from(key ?? "", "base64url").length).toBe(64);
  });

  it("verifies the right password only, and salts every hash", async () => {
    const hash = await hashPassword("correct horse");
    expect(await verifyPassword("correct horse", hash)).toBe(true);
    expect(await verifyPassword("correct horsE", hash)).toBe(false);
    expect(await hashPassword("correct horse")).not.toBe(hash);
  });

  it("never matches something that is not a hash, or a hash asking for absurd cost", async () => {
    for (const stored of ["!", "", "scrypt$abc", "scrypt$1048577$8$1$AAAA$AAAAAAAAAAAAAAAAAAAAAA", "plain"]) {
      expect(await verifyPassword("!", stored)).toBe(false);
    }
  });
});
