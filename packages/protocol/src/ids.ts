import { z } from "zod";

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** Prefixes of Kiln's ids; an id is `<prefix>_<26 chars, time-sortable>`. */
export type IdPrefix = "thr" | "turn" | "item" | "task" | "apr" | "call" | "env" | "att" | "sbx" | "ckpt";

/**
 * A new prefixed, time-sortable id (ULID layout: 48-bit millisecond time, then 80 random bits,
 * Crockford base32). Ids made in the same millisecond sort in creation order only by chance.
 */
export function newId(prefix: IdPrefix, now: number = Date.now()): string {
  let time = "";
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  // Web Crypto: the protocol package runs in browsers too (through @kiln/sdk).
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  let rand = "";
  for (let i = 0; i < 16; i++) rand += CROCKFORD[(bytes[i] ?? 0) % 32];
  return `${prefix}_${time}${rand}`;
}

const idPattern = (prefix: IdPrefix) => new RegExp(`^${prefix}_[0-9A-HJKMNP-TV-Z]{26}$`);

/** A thread id, e.g. `thr_01JD3…`. */
export const ThreadId = z.string().regex(idPattern("thr"), "expected a thread id like thr_01J…");
export type ThreadId = z.infer<typeof ThreadId>;
/** A turn id. */
export const TurnId = z.string().regex(idPattern("turn"), "expected a turn id like turn_01J…");
export type TurnId = z.infer<typeof TurnId>;
/** A task id, e.g. `task_01JD3…`. */
export const TaskId = z.string().regex(idPattern("task"), "expected a task id like task_01J…");
/** An environment id, e.g. `env_01JD3…`. */
export const EnvironmentId = z.string().regex(idPattern("env"), "expected an environment id like env_01J…");
/** An attempt id, e.g. `att_01JD3…`. */
export const AttemptId = z.string().regex(idPattern("att"), "expected an attempt id like att_01J…");
/** A sandbox id, e.g. `sbx_01JD3…`. */
export const SandboxId = z.string().regex(idPattern("sbx"), "expected a sandbox id like sbx_01J…");
