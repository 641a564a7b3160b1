// The HTTP shapes of a user's secrets: values go in, never come out.
import { z } from "zod";

/** A secret's name: what it is called in the environment of a command (`OPENAI_API_KEY`). */
export const SecretName = z
  .string()
  .regex(/^[A-Z0-9_]{1,64}$/, "use 1–64 of A–Z, 0–9 and _ (e.g. OPENAI_API_KEY)");

/** A secret's value: 1 byte to 64 KiB of text. */
export const SecretValue = z.string().min(1, "is empty").max(65_536, "is longer than 65536 characters");

/** A secret as listed: never its value. */
export const SecretSummary = z.object({ name: z.string(), updatedAt: z.number() });
export type SecretSummary = z.infer<typeof SecretSummary>;

/** `PUT /secrets/{name}`. */
export const PutSecretRequest = z.strictObject({ value: SecretValue });
