// Folds the API's usage answers into chart rows: `GET /usage` per-day rows (missing days filled with
// zeros so that the chart's axis has no holes), and per-task totals (the sum of each task's attempts'
// usage, as `GET /tasks` lists them).
import type { TaskSummary, Usage } from "@kiln/protocol";
import { addUsage, emptyUsage } from "@kiln/protocol";
import type { UsageReport } from "@kiln/sdk";

/** One day of usage, ready for a chart. */
export interface DayUsageRow {
  /** `YYYY-MM-DD` (UTC). */
  day: string;
  calls: number;
  usage: Usage;
  costUsd: number;
}

/** One task's usage: the sum over its attempts. */
export interface TaskUsageRow {
  taskId: string;
  title: string;
  environmentName: string;
  attempts: number;
  usage: Usage;
}

const DAY_MS = 86_400_000;

/** `YYYY-MM-DD` of a Unix ms time, in UTC (the server buckets usage per UTC day). */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The days from `from` to `to` (inclusive, `YYYY-MM-DD`); empty when `to` is before `from`. */
export function daysBetween(from: string, to: string): string[] {
  const start = Date.parse(`${from}T00:00:00Z`);
  const end = Date.parse(`${to}T00:00:00Z`);
  if (Number.isNaN(start) || Number.isNaN(end)) return [];
  const days: string[] = [];
  // Bounded: a range of more than ten years is a typo, not a chart.
  for (let t = start; t <= end && days.length < 3660; t += DAY_MS) days.push(utcDay(t));
  return days;
}

/**
 * The report's days as rows, one per day of `[from, to]` (default: the report's first to last day),
 * days without usage as zeros, in date order.
 */
export function foldUsageDays(
  report: UsageReport,
  range: { from?: string; to?: string } = {},
): DayUsageRow[] {
  const known = new Map(report.days.map((d) => [d.day, d]));
  const sorted = [...known.keys()].sort();
  const from = range.from ?? sorted[0];
  const to = range.to ?? sorted[sorted.length - 1];
  if (from === undefined || to === undefined) return [];
  return daysBetween(from, to).map((day) => {
    const found = known.get(day);
    return found === undefined
      ? { day, calls: 0, usage: emptyUsage(), costUsd: 0 }
      : { day, calls: found.calls, usage: found.usage, costUsd: found.costUsd };
  });
}

/** Per-task usage: attempts without usage count as zero; tasks that used nothing are left out. Most first. */
export function foldTaskUsage(tasks: readonly TaskSummary[]): TaskUsageRow[] {
  return tasks
    .map((task) => ({
      taskId: task.id,
      title: task.title,
      environmentName: task.environmentName,
      attempts: task.attempts.length,
      usage: task.attempts.reduce(
        (sum, a) => (a.usage === undefined ? sum : addUsage(sum, a.usage)),
        emptyUsage(),
      ),
    }))
    .filter((row) => row.usage.totalTokens > 0)
    .sort((a, b) => b.usage.totalTokens - a.usage.totalTokens || a.taskId.localeCompare(b.taskId));
}
