// The usage page: tokens and cost per day over a date range (`GET /usage`, the server's per-UTC-day
// rows, days without usage shown as zero), and tokens per task (the sum of each task's attempts, from
// the task list). Charts are inline SVG with their numbers in tables.
import "./usage.css";
import type { TaskSummary } from "@kiln/protocol";
import type { KilnClient, UsageReport } from "@kiln/sdk";
import { useEffect, useId, useMemo, useState } from "react";
import { UsageBadge } from "../../events/index.ts";
import { errorMessage, formatTokens, formatUsd } from "../../lib/format.ts";
import { Link } from "../../router/router.tsx";
import { BarChart } from "./bar-chart.tsx";
import { foldTaskUsage, foldUsageDays, utcDay } from "./fold-usage.ts";

/** Props of {@link UsageView}. */
export interface UsageViewProps {
  client: KilnClient;
  /** Today (Unix ms; tests fix it). */
  now?: number;
}

/** Pages of tasks read for the per-task chart (200 each): enough for a person's recent work. */
const TASK_PAGES = 5;

/** The usage page. */
export function UsageView({ client, now = Date.now() }: UsageViewProps) {
  const id = useId();
  const [to, setTo] = useState(() => utcDay(now));
  const [from, setFrom] = useState(() => utcDay(now - 29 * 86_400_000));
  const [report, setReport] = useState<UsageReport>();
  const [tasks, setTasks] = useState<TaskSummary[]>();
  const [moreTasks, setMoreTasks] = useState(false);
  const [error, setError] = useState<string>();

  useEffect(() => {
    if (from > to) return;
    const abort = new AbortController();
    setReport(undefined);
    client.usage.get({ from, to }, { signal: abort.signal }).then(setReport, (e: unknown) => {
      if (!abort.signal.aborted) setError(`Could not load usage: ${errorMessage(e)}`);
    });
    return () => abort.abort();
  }, [client, from, to]);

  useEffect(() => {
    const abort = new AbortController();
    (async () => {
      const all: TaskSummary[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < TASK_PAGES; page++) {
        const answer = await client.tasks.list(
          { limit: 200, ...(cursor === undefined ? {} : { cursor }) },
          { signal: abort.signal },
        );
        all.push(...answer.tasks);
        cursor = answer.nextCursor;
        if (cursor === undefined) break;
      }
      setTasks(all);
      setMoreTasks(cursor !== undefined);
    })().catch((e: unknown) => {
      if (!abort.signal.aborted) setError(`Could not load tasks: ${errorMessage(e)}`);
    });
    return () => abort.abort();
  }, [client]);

  const days = useMemo(
    () => (report === undefined ? [] : foldUsageDays(report, { from, to })),
    [report, from, to],
  );
  const perTask = useMemo(() => (tasks === undefined ? [] : foldTaskUsage(tasks)), [tasks]);

  return (
    <div className="page usage-page">
      <h1>Usage</h1>
      <form className="filters" aria-label="Date range" onSubmit={(e) => e.preventDefault()}>
        <label>
          From
          <input
            type="date"
            value={from}
            max={to}
            onChange={(e) => e.target.value !== "" && setFrom(e.target.value)}
          />
        </label>
        <label>
          To
          <input
            type="date"
            value={to}
            min={from}
            onChange={(e) => e.target.value !== "" && setTo(e.target.value)}
          />
        </label>
        <span className="muted">Days are UTC.</span>
      </form>
      {from > to && (
        <p role="alert" className="error">
          The start of the range is after its end.
        </p>
      )}
      {error !== undefined && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <section aria-labelledby={`${id}-days`}>
        <h2 id={`${id}-days`}>Per day</h2>
        {report === undefined ? (
          <p className="muted">Loading…</p>
        ) : (
          <>
            <p>
              <UsageBadge
                usage={report.total.usage}
                costUsd={report.total.costUsd}
                label="Usage in this range"
              />{" "}
              <span className="muted">{`${report.total.calls} model calls`}</span>
            </p>
            <div className="chart-grid">
              <BarChart
                title="Tokens per day"
                valueHeader="Tokens"
                formatValue={formatTokens}
                data={days.map((d) => ({ key: d.day, label: d.day, value: d.usage.totalTokens }))}
              />
              <BarChart
                title="Cost per day"
                valueHeader="Cost (USD)"
                formatValue={formatUsd}
                data={days.map((d) => ({ key: d.day, label: d.day, value: d.costUsd }))}
              />
            </div>
          </>
        )}
      </section>
      <section aria-labelledby={`${id}-tasks`}>
        <h2 id={`${id}-tasks`}>Per task</h2>
        {tasks === undefined ? (
          <p className="muted">Loading…</p>
        ) : perTask.length === 0 ? (
          <p className="muted">No task has used any tokens yet.</p>
        ) : (
          <>
            <BarChart
              title="Tokens per task (top 20)"
              labelHeader="Task"
              valueHeader="Tokens"
              formatValue={formatTokens}
              data={perTask
                .slice(0, 20)
                .map((t) => ({ key: t.taskId, label: t.title || t.taskId, value: t.usage.totalTokens }))}
            />
            <div className="table-scroll">
              <table className="usage-table">
                <caption className="sr-only">Tokens per task</caption>
                <thead>
                  <tr>
                    <th scope="col">Task</th>
                    <th scope="col">Environment</th>
                    <th scope="col">Attempts</th>
                    <th scope="col">Input</th>
                    <th scope="col">Output</th>
                    <th scope="col">Total</th>
                  </tr>
                </thead>
                <tbody>
                  {perTask.map((t) => (
                    <tr key={t.taskId}>
                      <th scope="row">
                        <Link to={`/tasks/${t.taskId}`}>{t.title || t.taskId}</Link>
                      </th>
                      <td>{t.environmentName}</td>
                      <td>{t.attempts}</td>
                      <td>{formatTokens(t.usage.inputTokens)}</td>
                      <td>{formatTokens(t.usage.outputTokens)}</td>
                      <td>{formatTokens(t.usage.totalTokens)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {moreTasks && (
              <p className="muted">{`Only your ${TASK_PAGES * 200} most recent tasks are counted.`}</p>
            )}
          </>
        )}
      </section>
    </div>
  );
}
