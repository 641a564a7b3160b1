// The setup log of an environment's latest preparation, read from the events of its newest task
// (`environment/phase` and `environment/log`): replayed from the start, followed live while the
// preparation runs, and left once it is ready, failed, or the task has ended.
import { assertNever, type TaskEventEnvelope } from "@kiln/protocol";
import { isTerminalStatus, type KilnClient } from "@kiln/sdk";
import { useEffect, useState } from "react";
import { errorMessage } from "../../lib/format.ts";
import { Link } from "../../router/router.tsx";

/** What the log shows. */
export interface SetupLogState {
  taskId: string | undefined;
  /** One line per phase change, and the setup output as it came. */
  text: string;
  /** Still being prepared. */
  live: boolean;
}

/** Adds one task event to the log; answers whether the preparation is over. */
export function foldSetupLog(
  state: SetupLogState,
  envelope: TaskEventEnvelope,
): { state: SetupLogState; done: boolean } {
  const { event } = envelope;
  switch (event.type) {
    case "environment/phase": {
      const took = event.durationMs === undefined ? "" : ` (${(event.durationMs / 1000).toFixed(1)} s)`;
      const why = event.error === undefined ? "" : `: ${event.error.message}`;
      const line = `── ${event.phase} ${event.status}${took}${why}${event.status === "skipped" ? " — the prepared environment was cached" : ""}\n`;
      const done = (event.phase === "ready" && event.status !== "started") || event.status === "failed";
      return { state: { ...state, text: state.text + line, live: !done }, done };
    }
    case "environment/log":
      return { state: { ...state, text: state.text + event.text }, done: false };
    case "task/status":
      return isTerminalStatus(event.status)
        ? { state: { ...state, live: false }, done: true }
        : { state, done: false };
    case "userTurn/created":
    case "attempt/status":
    case "attempt/result":
    case "attempt/published":
      // Not about the preparation.
      return { state, done: false };
    default:
      return assertNever(event);
  }
}

/** The latest setup log of environment `environmentId`. */
export function SetupLog({ client, environmentId }: { client: KilnClient; environmentId: string }) {
  const [log, setLog] = useState<SetupLogState>();
  const [error, setError] = useState<string>();

  useEffect(() => {
    const abort = new AbortController();
    setLog(undefined);
    setError(undefined);
    (async () => {
      const { tasks } = await client.tasks.list({ environmentId, limit: 1 }, { signal: abort.signal });
      const task = tasks[0];
      let state: SetupLogState = { taskId: task?.id, text: "", live: task !== undefined };
      setLog(state);
      if (task === undefined) return;
      for await (const envelope of client.tasks.watch(task.id, { signal: abort.signal })) {
        const next = foldSetupLog(state, envelope);
        state = next.state;
        setLog(state);
        if (next.done) break;
      }
    })().catch((e: unknown) => {
      if (!abort.signal.aborted) setError(errorMessage(e));
    });
    return () => abort.abort();
  }, [client, environmentId]);

  if (error !== undefined) {
    return (
      <p role="alert" className="error">
        {`Could not read the setup log: ${error}`}
      </p>
    );
  }
  if (log === undefined) return <p className="muted">Loading…</p>;
  if (log.taskId === undefined) return <p className="muted">No task has prepared this environment yet.</p>;
  return (
    <div className="setup-log">
      <p className="muted">
        From task <Link to={`/tasks/${log.taskId}`}>{log.taskId}</Link>
        {log.live ? " (preparing…)" : ""}
      </p>
      <section aria-label="Setup log">
        <pre className="log">{log.text === "" ? "(no output yet)" : log.text}</pre>
      </section>
    </div>
  );
}
