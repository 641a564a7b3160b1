// AES-256-GCM for secrets at rest: a fresh 12-byte IV per seal, the 16-byte tag checked on open.
// An optional context (e.g. `user:usr_…/OPENAI_API_KEY`) is bound as additional data, so that a
// ciphertext copied to another row does not open there. Errors never carry the plaintext.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { KilnError } from "@kiln/protocol";

/** A sealed secret (what the store keeps). */
export interface SealedSecret {
  ciphertext: Uint8Array;
  iv: Uint8Array;
  tag: Uint8Array;
  /** Which key sealed it (for rotation). */
  keyVersion: number;
}

/** Encrypts and decrypts secrets with one key. */
export interface SecretBox {
  /** The version recorded with everything this box seals. */
  readonly keyVersion: number;
  seal(plaintext: string, context?: string): SealedSecret;
  /** Throws `internal` when the key, the context or the bytes do not match. */
  open(sealed: SealedSecret, context?: string): string;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A box over a 32-byte key. */
export function createSecretBox(key: Buffer, keyVersion = 1): SecretBox {
  if (key.length !== 32) {
    throw new KilnError("config_invalid", `the secret key must be 32 bytes, not ${key.length}`);
  }
  return {
    keyVersion,
    seal(plaintext, context) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
      if (context !== undefined) cipher.setAAD(Buffer.from(context, "utf8"));
      const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      return { ciphertext, iv, tag: cipher.getAuthTag(), keyVersion };
    },
    open(sealed, context) {
      if (sealed.keyVersion !== keyVersion) {
        throw new KilnError(
          "internal",
          `a secret was sealed with key version ${sealed.keyVersion}, but this server has version ${keyVersion}`,
        );
      }
      if (sealed.iv.length !== IV_BYTES || sealed.tag.length !== TAG_BYTES) throw unreadable();
      try {
        const decipher = createDecipheriv("aes-256-gcm", key, sealed.iv, { authTagLength: TAG_BYTES });
        if (context !== undefined) decipher.setAAD(Buffer.from(context, "utf8"));
        decipher.setAuthTag(sealed.tag);
        return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString("utf8");
      } catch (error) {
        throw unreadable(error);
      }
    },
  };
}

function unreadable(cause?: unknown): KilnError {
  return new KilnError(
    "internal",
    "a stored secret could not be decrypted: it was changed, or KILN_SECRET_KEY / secret.key is not the key it was sealed with",
    cause === undefined ? undefined : { cause },
  );
}
