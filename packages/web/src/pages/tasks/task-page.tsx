// `/tasks/:id`: a task, live. Its header (status, environment, branch, Stop, Archive), how far its
// environment got, its attempts (tabs, or side by side), a follow-up box, and a comparison of the
// attempts' changes.
import type { Task } from "@kiln/protocol";
import { isTerminalStatus } from "@kiln/sdk";
import { useState } from "react";
import { useClient } from "../../app-context.tsx";
import { ErrorAlert } from "../../components/error-alert.tsx";
import { StatusBadge } from "../../components/status-badge.tsx";
import { TimeAgo } from "../../components/time-ago.tsx";
import { Link } from "../../router/router.tsx";
import type { PageProps } from "../../routes.tsx";
import { AttemptTabs } from "./attempt-tabs.tsx";
import { AttemptsComparison } from "./attempts-comparison.tsx";
import { Composer } from "./composer.tsx";
import { EnvironmentPhases } from "./environment-phases.tsx";
import { useTask } from "./use-task.ts";

/** The task page. */
export function TaskPage({ params }: PageProps) {
  const client = useClient();
  const id = params.id ?? "";
  const { task, events, error, refresh } = useTask(client, id);
  const [selected, setSelected] = useState(0);

  if (task === undefined) {
    return (
      <div className="page">
        <p>
          <Link to="/tasks">← Tasks</Link>
        </p>
        {error === undefined ? (
          <p className="loading" role="status">
            Loading the task…
          </p>
        ) : (
          <ErrorAlert error={error} prefix="Could not load the task" />
        )}
      </div>
    );
  }

  const comparable = task.attempts.length >= 2 && task.attempts.some((a) => (a.diff ?? "") !== "");
  return (
    <div className="page task-page">
      <p className="breadcrumb">
        <Link to="/tasks">← Tasks</Link>
      </p>
      <TaskHeader task={task} onChanged={refresh} />
      <ErrorAlert error={error} />
      {task.error !== undefined && (
        <p className="error" role="alert">
          {task.error.message}
        </p>
      )}
      <EnvironmentPhases events={events} />
      {task.attempts.length === 0 ? (
        <p className="muted">The attempts start once the environment is ready.</p>
      ) : (
        <AttemptTabs task={task} selected={selected} onSelect={setSelected} />
      )}
      {task.attempts.length > 0 && (
        <section className="panel" aria-labelledby="follow-up-heading">
          <h2 id="follow-up-heading">Follow up</h2>
          <FollowUp task={task} selectedIndex={selected} onSent={refresh} />
        </section>
      )}
      {comparable && <AttemptsComparison attempts={task.attempts} />}
    </div>
  );
}

function TaskHeader({ task, onChanged }: { task: Task; onChanged: () => void }) {
  const client = useClient();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const act = async (action: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await action();
      onChanged();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <header className="task-header">
      <div className="task-heading">
        <h1>{task.title}</h1>
        <div className="task-meta">
          <StatusBadge status={task.status} />
          <span title="Environment">{task.environmentName}</span>
          <span title="Branch">
            <code>{task.branch}</code>
          </span>
          {task.baseCommit !== undefined && (
            <span title="Base commit">
              <code>{task.baseCommit.slice(0, 8)}</code>
            </span>
          )}
          <span>
            {task.bestOfN} {task.bestOfN === 1 ? "attempt" : "attempts"}
          </span>
          <TimeAgo at={task.createdAt} />
        </div>
      </div>
      <div className="button-row">
        {!isTerminalStatus(task.status) && (
          <button
            type="button"
            className="danger"
            disabled={busy}
            onClick={() => act(() => client.tasks.cancel(task.id))}
          >
            Stop
          </button>
        )}
        <button
          type="button"
          disabled={busy}
          onClick={() => act(() => client.tasks.archive(task.id, !task.archived))}
        >
          {task.archived ? "Unarchive" : "Archive"}
        </button>
      </div>
      <ErrorAlert error={error} />
    </header>
  );
}

function FollowUp({
  task,
  selectedIndex,
  onSent,
}: {
  task: Task;
  selectedIndex: number;
  onSent: () => void;
}) {
  const client = useClient();
  const fallback = task.attempts[selectedIndex]?.id ?? task.attempts[0]?.id ?? "";
  const [attemptId, setAttemptId] = useState<string | undefined>();
  const chosen = attemptId ?? fallback;
  return (
    <Composer
      label="Follow-up"
      action="Send follow-up"
      placeholder="Ask for more changes (Ctrl+Enter); the chosen attempt continues in its workspace"
      rows={3}
      onSend={async (text) => {
        await client.tasks.followUp(task.id, { prompt: text, attemptId: chosen });
        onSent();
      }}
      extra={
        task.attempts.length > 1 ? (
          <label className="inline">
            Attempt
            <select value={chosen} onChange={(e) => setAttemptId(e.target.value)}>
              {task.attempts.map((a) => (
                <option key={a.id} value={a.id}>
                  Attempt {a.index + 1}
                </option>
              ))}
            </select>
          </label>
        ) : undefined
      }
    />
  );
}
