// One task of the list: title (the link), status, environment, attempts, diff stats, age.
import type { TaskSummary } from "@kiln/protocol";
import { memo } from "react";
import { StatusBadge } from "../../components/status-badge.tsx";
import { TimeAgo } from "../../components/time-ago.tsx";
import { DiffCounts } from "../../events/diff-view.tsx";
import { Link } from "../../router/router.tsx";

/** The attempt whose stats a summary shows: the first that completed, else the first. */
export function shownAttempt(task: TaskSummary): TaskSummary["attempts"][number] | undefined {
  return task.attempts.find((a) => a.status === "completed") ?? task.attempts[0];
}

/** A row of the task list. */
export const TaskRow = memo(function TaskRow({ task }: { task: TaskSummary }) {
  const stats = shownAttempt(task)?.diffStats;
  const attempts = Math.max(task.bestOfN, task.attempts.length);
  return (
    <li className="task-row">
      <div className="task-row-main">
        <Link to={`/tasks/${encodeURIComponent(task.id)}`} className="task-title">
          {task.title || task.prompt.slice(0, 80)}
        </Link>
        <div className="task-meta">
          <StatusBadge status={task.status} />
          <span className="env-name" title="Environment">
            {task.environmentName}
          </span>
          <span className="branch" title="Branch">
            {task.branch}
          </span>
          <span>
            {attempts} {attempts === 1 ? "attempt" : "attempts"}
          </span>
          {task.archived && <span className="pill">archived</span>}
        </div>
      </div>
      <div className="task-row-side">
        {stats !== undefined && stats.filesModified > 0 ? (
          <DiffCounts additions={stats.linesAdded} deletions={stats.linesRemoved} />
        ) : (
          <span className="muted small">no changes</span>
        )}
        <TimeAgo at={task.createdAt} />
      </div>
    </li>
  );
});
