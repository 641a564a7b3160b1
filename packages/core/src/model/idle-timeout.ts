/** An AbortSignal that fires when the parent aborts or when `touch()` has not been called for `ms`. */
export interface IdleTimeout {
  signal: AbortSignal;
  touch(): void;
  timedOut(): boolean;
  dispose(): void;
}

/** Aborts a stream that goes quiet for `ms` (the parent signal still aborts it at once). */
export function withIdleTimeout(parent: AbortSignal, ms: number): IdleTimeout {
  const controller = new AbortController();
  let fired = false;
  const onAbort = () => controller.abort(parent.reason);
  parent.addEventListener("abort", onAbort, { once: true });
  if (parent.aborted) controller.abort(parent.reason);
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      fired = true;
      controller.abort(new Error("idle timeout"));
    }, ms);
    timer.unref();
  };
  arm();
  return {
    signal: controller.signal,
    touch: arm,
    timedOut: () => fired,
    dispose() {
      if (timer !== undefined) clearTimeout(timer);
      parent.removeEventListener("abort", onAbort);
    },
  };
}
