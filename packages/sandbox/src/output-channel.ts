/** Fans a command's output out to listeners; holds it back until the first listener arrives. */
export interface OutputChannel {
  /** Delivers a chunk to every listener (or buffers it while there are none yet). */
  emit(chunk: string): void;
  /** Adds a listener; the first one also receives what was buffered. Returns an unsubscribe function. */
  subscribe(listener: (chunk: string) => void): () => void;
}

/** Creates an output channel. */
export function createOutputChannel(): OutputChannel {
  const listeners = new Set<(chunk: string) => void>();
  // Only before the first subscription: a caller that awaits spawn() and then subscribes must not
  // lose what the command printed in between.
  let backlog: string[] | undefined = [];

  return {
    emit(chunk) {
      if (chunk === "") return;
      if (backlog !== undefined) {
        backlog.push(chunk);
        return;
      }
      for (const listener of listeners) listener(chunk);
    },
    subscribe(listener) {
      listeners.add(listener);
      if (backlog !== undefined) {
        const held = backlog;
        backlog = undefined;
        for (const chunk of held) listener(chunk);
      }
      return () => {
        listeners.delete(listener);
      };
    },
  };
}
