// Follows one thread for the chat view: its resource (configuration, title, status: fetched on open
// and again whenever a turn starts or ends) and its live, folded events (the shared useThreadEvents,
// which resumes after a dropped connection with no event lost or doubled).
import type { ThreadResource } from "@kiln/protocol";
import type { KilnClient } from "@kiln/sdk";
import { useCallback, useEffect, useState } from "react";
import { type ThreadEvents, useThreadEvents } from "../../events/index.ts";
import { errorMessage } from "../../lib/format.ts";

/** What {@link useThreadChat} gives. */
export interface ThreadChat {
  /** The thread as last fetched (undefined until the first answer). */
  thread: ThreadResource | undefined;
  /** Why the thread could not be fetched. */
  loadError: string | undefined;
  /** The live timeline and the stream's status. */
  events: ThreadEvents;
  /** Fetches the thread again (after a rename…). */
  refresh: () => void;
}

/** The thread `threadId`'s resource and live timeline. */
export function useThreadChat(client: KilnClient, threadId: string): ThreadChat {
  const events = useThreadEvents(client, threadId);
  const [thread, setThread] = useState<ThreadResource>();
  const [loadError, setLoadError] = useState<string>();
  const [version, setVersion] = useState(0);
  const running = events.timeline.runningTurnId;

  // `running` and `version` are triggers: a turn starting or ending changes the thread's status (and
  // the server may have named it after the first message).
  // biome-ignore lint/correctness/useExhaustiveDependencies: running and version refetch on purpose
  useEffect(() => {
    const abort = new AbortController();
    client.threads.get(threadId, { signal: abort.signal }).then(
      (t) => {
        setThread(t);
        setLoadError(undefined);
      },
      (e: unknown) => {
        if (!abort.signal.aborted) setLoadError(errorMessage(e));
      },
    );
    return () => abort.abort();
  }, [client, threadId, running, version]);

  const refresh = useCallback(() => setVersion((v) => v + 1), []);
  return { thread, loadError, events, refresh };
}
