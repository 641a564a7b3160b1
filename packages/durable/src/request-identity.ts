// Restate request identity (request signing): restate-server signs every request it sends to a
// deployment (discovery and invocations) with an Ed25519 private key — a PKCS#8 PEM file named by
// `[worker.invoker] request-identity-private-key-pem-file` — and a worker verifies the signature with
// the matching public keys, so that nobody else who reaches a worker's port can run its handlers.
// A public key is written `publickeyv1_` + the Base58 (Bitcoin alphabet) of the raw 32-byte key, the
// form restate-server logs at startup and the Restate SDK's `identityKeys` takes.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { KilnError } from "@kiln/protocol";

/** The prefix of a v1 request identity public key. */
export const PUBLIC_KEY_PREFIX = "publickeyv1_";

const ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/** A new signing key: the private key (PKCS#8 PEM, for restate-server) and its public key (for workers). */
export function generateRequestIdentity(): { privateKeyPem: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return {
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKey: encodePublicKey(publicKey),
  };
}

/** The `publickeyv1_…` public key of an Ed25519 private key in PEM (e.g. an operator's existing key). */
export function publicKeyFromPrivatePem(pem: string): string {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    throw new KilnError(
      "config_invalid",
      `not a PEM private key (${error instanceof Error ? error.message : String(error)}): create one with \`kiln worker identity-key --out FILE\` or \`openssl genpkey -algorithm ed25519\``,
    );
  }
  if (key.asymmetricKeyType !== "ed25519")
    throw new KilnError(
      "config_invalid",
      `Restate signs requests with Ed25519 keys, but this PEM holds a key of type ${key.asymmetricKeyType ?? "unknown"}: create one with \`openssl genpkey -algorithm ed25519\``,
    );
  return encodePublicKey(createPublicKey(key));
}

/**
 * Checks that `key` is a v1 request identity public key (prefix and a 32-byte Base58 body) and returns
 * it; throws a KilnError naming the bad key otherwise.
 */
export function parseIdentityPublicKey(key: string): string {
  const body = key.startsWith(PUBLIC_KEY_PREFIX) ? key.slice(PUBLIC_KEY_PREFIX.length) : undefined;
  const bytes = body === undefined ? undefined : base58Decode(body);
  if (bytes?.length !== 32)
    throw new KilnError(
      "config_invalid",
      `"${key}" is not a Restate request identity public key (expected publickeyv1_ followed by the Base58 of a 32-byte Ed25519 key): print yours with \`kiln worker identity-key --private-key FILE\``,
    );
  return key;
}

function encodePublicKey(key: KeyObject): string {
  // An Ed25519 SPKI (DER) is a fixed 12-byte header followed by the raw 32-byte key.
  const raw = key.export({ type: "spki", format: "der" }).subarray(-32);
  return PUBLIC_KEY_PREFIX + base58Encode(raw);
}

function base58Encode(bytes: Uint8Array): string {
  let value = 0n;
  for (const byte of bytes) value = value * 256n + BigInt(byte);
  let out = "";
  while (value > 0n) {
    out = ALPHABET[Number(value % 58n)] + out;
    value /= 58n;
  }
  // Leading zero bytes are written as leading "1"s.
  for (const byte of bytes) {
    if (byte !== 0) break;
    out = `1${out}`;
  }
  return out;
}

/** The bytes of a Base58 string, or undefined when it has a character outside the alphabet. */
function base58Decode(text: string): Uint8Array | undefined {
  let value = 0n;
  for (const char of text) {
    const digit = ALPHABET.indexOf(char);
    if (digit < 0) return undefined;
    value = value * 58n + BigInt(digit);
  }
  const bytes: number[] = [];
  while (value > 0n) {
    bytes.unshift(Number(value % 256n));
    value /= 256n;
  }
  for (const char of text) {
    if (char !== "1") break;
    bytes.unshift(0);
  }
  return Uint8Array.from(bytes);
}
