// Kiln's step journal on Restate: a step is `ctx.run` (its result is stored in the invocation's journal
// and returned on a replay without running it again), ids come from `ctx.rand` (seeded by the
// invocation id, so a replay makes the same ones). A step that fails records the failure as its result:
// Restate would otherwise retry it forever, and the agent loop already decides what a failure means.
import type { StepJournal } from "@kiln/core";
import { type ErrorInfo, type IdPrefix, KilnError, toErrorInfo } from "@kiln/protocol";
import type * as restate from "@restatedev/restate-sdk";

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/**
 * An error a step must not record as its result: Restate retries the step instead (e.g. the store
 * was briefly unreachable while the step read from it).
 */
class TransientStepError extends Error {
  constructor(readonly original: unknown) {
    super(original instanceof Error ? original.message : String(original));
    this.name = "TransientStepError";
  }
}

/** Runs `fn` inside a step so that its failure is retried (by Restate), not recorded. */
export async function transient<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw new TransientStepError(error);
  }
}

type Recorded<T> = { ok: true; value: T } | { ok: false; error: ErrorInfo };

/** A journal whose steps are `ctx.run` calls; `now` is the (journaled) time the ids carry. */
export function createRestateJournal(ctx: restate.Context, now: number, onCancel: () => void): StepJournal {
  return {
    async step<T>(name: string, fn: () => Promise<T>): Promise<T> {
      let recorded: Recorded<T>;
      try {
        recorded = (await ctx.run(name, async (): Promise<Recorded<T>> => {
          try {
            return { ok: true, value: await fn() };
          } catch (error) {
            // Retried by Restate (the run fails this attempt) rather than journaled as the result.
            if (error instanceof TransientStepError) throw error.original;
            return { ok: false, error: toErrorInfo(error) };
          }
        })) as Recorded<T>;
      } catch (error) {
        // Restate cancels the invocation (an interrupt): stop the turn; the loop reports it interrupted.
        if (isCancelled(error)) {
          onCancel();
          throw new KilnError("turn_interrupted", "the turn was interrupted");
        }
        throw error;
      }
      if (recorded.ok) return recorded.value;
      throw new KilnError(recorded.error.code, recorded.error.message, {
        retryable: recorded.error.retryable,
        ...(recorded.error.details === undefined ? {} : { details: recorded.error.details }),
      });
    },
    newId(prefix: IdPrefix): string {
      let time = "";
      let t = now;
      for (let i = 0; i < 10; i++) {
        time = CROCKFORD[t % 32] + time;
        t = Math.floor(t / 32);
      }
      let rand = "";
      for (let i = 0; i < 16; i++) rand += CROCKFORD[Math.floor(ctx.rand.random() * 32)];
      return `${prefix}_${time}${rand}`;
    },
  };
}

/** Whether `error` is Restate's cancellation of the invocation. */
export function isCancelled(error: unknown): boolean {
  return (
    error instanceof Error && (error.name === "CancelledError" || (error as { code?: unknown }).code === 409)
  );
}
