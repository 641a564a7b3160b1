// Loads something now and again every `intervalMs` while the page is visible (a hidden tab does not
// poll; it catches up the moment it is shown again). Each load gets an AbortSignal; a newer load or
// unmounting aborts the older one.
import { useCallback, useEffect, useRef, useState } from "react";

/** What {@link usePolled} gives. */
export interface Polled<T> {
  data: T | undefined;
  error: unknown;
  /** True until the first load settled. */
  loading: boolean;
  /** Loads again now. */
  reload: () => void;
}

/** Polls `load` (re-created when `deps` change). `intervalMs` 0: load once per change of `deps`. */
export function usePolled<T>(
  load: (signal: AbortSignal) => Promise<T>,
  deps: readonly unknown[],
  intervalMs = 0,
): Polled<T> {
  const [data, setData] = useState<T | undefined>();
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  // biome-ignore lint/correctness/useExhaustiveDependencies: `deps` are the caller's; `tick` forces a reload
  useEffect(() => {
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      timer = undefined;
      if (document.visibilityState === "hidden" && intervalMs > 0) return;
      try {
        const value = await loadRef.current(abort.signal);
        if (abort.signal.aborted) return;
        setData(value);
        setError(undefined);
      } catch (e) {
        if (abort.signal.aborted) return;
        setError(e);
      }
      setLoading(false);
      if (intervalMs > 0 && !abort.signal.aborted) timer = setTimeout(run, intervalMs);
    };
    const onVisible = () => {
      if (document.visibilityState !== "visible" || timer !== undefined || intervalMs === 0) return;
      void run();
    };
    void run();
    document.addEventListener("visibilitychange", onVisible);
    return () => {
      abort.abort();
      if (timer !== undefined) clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisible);
    };
  }, [...deps, intervalMs, tick]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload };
}
