/**
 * Hands out ids like the real API's (`msg_1`, `fc_2`, `call_3` …): one counter per prefix, for the
 * lifetime of one server, so call ids never repeat across requests.
 */
export interface IdAllocator {
  next(prefix: string): string;
}

/** Creates an allocator; each server owns one (no module-level counters). */
export function createIdAllocator(): IdAllocator {
  const counters = new Map<string, number>();
  return {
    next(prefix) {
      const n = (counters.get(prefix) ?? 0) + 1;
      counters.set(prefix, n);
      return `${prefix}${n}`;
    },
  };
}
