// Tokens must never reach an error message, a log or an API answer: whatever git or a forge says is
// passed through here first.

/** Replaces credentials in URLs (`https://user:pass@host` → `https://***@host`) and every occurrence of
 *  the given secrets (also base64-encoded, as they travel in a Basic auth header) with `***`. */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, "$1***@");
  for (const secret of secrets) {
    // A very short "secret" would blank out ordinary words and protect nothing.
    if (secret.length < 4) continue;
    for (const form of [secret, encodeURIComponent(secret), Buffer.from(secret).toString("base64")]) {
      out = out.split(form).join("***");
    }
  }
  return out;
}
