// A task's or attempt's status as a coloured badge (the word is always written: colour is a hint).
import type { TaskStatus } from "@kiln/protocol";

const LABEL: Record<TaskStatus, string> = {
  queued: "Queued",
  provisioning: "Preparing",
  running: "Running",
  completed: "Completed",
  failed: "Failed",
  cancelled: "Cancelled",
};

/** The status badge. */
export function StatusBadge({ status }: { status: TaskStatus }) {
  const live = status === "queued" || status === "provisioning" || status === "running";
  return (
    <span className={`badge badge-${status}`}>
      {live && <span className="spinner small" aria-hidden="true" />}
      {LABEL[status]}
    </span>
  );
}
