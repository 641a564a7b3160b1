// `@restatedev/restate-sdk` 1.17 calls `Promise.withResolvers` (Node 22+); Kiln supports Node 20.

/** Adds `Promise.withResolvers` where the runtime lacks it. */
export function installPromisePolyfill(): void {
  const ctor = Promise as unknown as { withResolvers?: unknown };
  if (typeof ctor.withResolvers === "function") return;
  ctor.withResolvers = <T>() => {
    let resolve!: (value: T | PromiseLike<T>) => void;
    let reject!: (reason?: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}
