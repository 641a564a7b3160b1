// One attempt of a task: its status, stats, usage and PR text (copy), its patch (download), links to
// its sandbox's terminal and files, its agent's activity live (the attempt thread's events), a box
// to steer it while it runs, and its changes against the base commit.
import type { ApprovalDecisionInput, ApprovalItem, Attempt, Task } from "@kiln/protocol";
import { useCallback } from "react";
import { useClient } from "../../app-context.tsx";
import { CopyButton } from "../../components/copy-button.tsx";
import { DownloadLink } from "../../components/download-link.tsx";
import { StatusBadge } from "../../components/status-badge.tsx";
import { DiffCounts, DiffModeToggle, DiffView, useDiffMode } from "../../events/diff-view.tsx";
import { EventTimeline } from "../../events/event-timeline.tsx";
import { UsageBadge } from "../../events/usage-badge.tsx";
import { useThreadEvents } from "../../events/use-thread-events.ts";
import { Link } from "../../router/router.tsx";
import { Composer } from "./composer.tsx";

/** Props of {@link AttemptPanel}. */
export interface AttemptPanelProps {
  task: Task;
  attempt: Attempt;
  /** Follow the attempt's events (off for hidden tabs: a browser allows few connections per site). */
  live: boolean;
}

/** An attempt's panel. */
export function AttemptPanel({ task, attempt, live }: AttemptPanelProps) {
  const client = useClient();
  // Until the attempt's sandbox and thread exist (while the environment is prepared) their ids are "".
  const threadId = attempt.threadId === "" ? undefined : attempt.threadId;
  const events = useThreadEvents(client, threadId, { enabled: live });
  const [mode, setMode] = useDiffMode();
  const { timeline } = events;
  const running = attempt.status === "running" || timeline.runningTurnId !== undefined;
  const usage = timeline.usage?.thread ?? attempt.usage;
  const decide = useCallback(
    (approval: ApprovalItem, decision: ApprovalDecisionInput) =>
      client.approvals.respond(approval.id, decision),
    [client],
  );
  const diff = attempt.diff ?? "";
  const name = `Attempt ${attempt.index + 1}`;

  return (
    <div className="attempt">
      <div className="attempt-header">
        <StatusBadge status={attempt.status} />
        {attempt.diffStats !== undefined && attempt.diffStats.filesModified === 0 && (
          <span className="muted">No changes</span>
        )}
        {attempt.diffStats !== undefined && attempt.diffStats.filesModified > 0 && (
          <span className="muted">
            {attempt.diffStats.filesModified} {attempt.diffStats.filesModified === 1 ? "file" : "files"}{" "}
            <DiffCounts additions={attempt.diffStats.linesAdded} deletions={attempt.diffStats.linesRemoved} />
          </span>
        )}
        {usage !== undefined && (
          <UsageBadge usage={usage} costUsd={timeline.usage?.threadUsd} label={`${name} usage`} />
        )}
        {attempt.published !== undefined && (
          <span className="pill">
            {attempt.published.pullRequest === undefined ? (
              <>pushed to {attempt.published.branch}</>
            ) : (
              <a href={attempt.published.pullRequest.url} target="_blank" rel="noopener noreferrer">
                PR #{attempt.published.pullRequest.number}
              </a>
            )}
          </span>
        )}
      </div>
      <div className="button-row attempt-actions">
        <CopyButton label="Copy PR title" text={attempt.pr?.title ?? task.title} />
        <CopyButton
          label="Copy PR body"
          text={attempt.pr?.body ?? attempt.message ?? ""}
          disabled={(attempt.pr?.body ?? attempt.message ?? "") === ""}
        />
        {diff !== "" && (
          <DownloadLink
            label="Download patch"
            content={diff}
            type="text/x-diff"
            filename={`${task.id}-attempt-${attempt.index + 1}.patch`}
          />
        )}
        {attempt.sandboxId !== "" && (
          <>
            <Link className="button" to={`/terminal/${encodeURIComponent(attempt.sandboxId)}`}>
              Terminal
            </Link>
            <Link className="button" to={`/files/${encodeURIComponent(attempt.sandboxId)}`}>
              Files
            </Link>
          </>
        )}
      </div>
      {attempt.error !== undefined && (
        <p className="error" role="alert">
          {attempt.error.message}
        </p>
      )}

      <section aria-label={`${name} activity`} className="activity">
        {events.status === "failed" && (
          <p className="error" role="alert">
            The live activity stopped: {events.error}{" "}
            <button type="button" onClick={events.retry}>
              Reconnect
            </button>
          </p>
        )}
        {live && events.status === "connecting" && timeline.entries.length === 0 && (
          <p className="loading" role="status">
            Loading activity…
          </p>
        )}
        <EventTimeline
          timeline={timeline}
          onApprovalDecision={decide}
          diffMode={mode}
          label={`${name} activity`}
        />
        {running && threadId !== undefined && (
          <Composer
            label={`Steer ${name.toLowerCase()}`}
            action="Steer"
            placeholder="Add guidance for the running attempt (Ctrl+Enter)"
            onSend={(text) => client.threads.steer(threadId, text)}
          />
        )}
      </section>

      {diff !== "" && (
        <details className="attempt-diff" open={!running}>
          <summary>
            Changes{" "}
            {attempt.diffStats !== undefined && (
              <DiffCounts
                additions={attempt.diffStats.linesAdded}
                deletions={attempt.diffStats.linesRemoved}
              />
            )}
          </summary>
          <div className="diff-toolbar">
            <DiffModeToggle mode={mode} onChange={setMode} />
          </div>
          <DiffView diff={diff} mode={mode} />
        </details>
      )}
    </div>
  );
}
