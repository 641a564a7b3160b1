// How tasks look in a terminal: statuses in color, `+12 -3` stats, ages like `5m`, aligned tables, and
// the detail view of one task (`kiln tasks show`, and the end of `kiln tasks create --wait`).
import { type AttemptStatus, assertNever, type DiffStats, type Task } from "@kiln/protocol";
import { extract } from "@kiln/sdk";
import type { Colors } from "./remote-command.ts";

/** A status, colored by how it went (green done, red failed, yellow in progress). */
export function formatStatus(c: Colors, status: AttemptStatus): string {
  switch (status) {
    case "completed":
      return c.green(status);
    case "failed":
      return c.red(status);
    case "cancelled":
      return c.dim(status);
    case "queued":
    case "provisioning":
    case "running":
      return c.yellow(status);
    default:
      return assertNever(status);
  }
}

/** `+12 -3`, green and red. */
export function formatStats(c: Colors, stats: DiffStats | undefined): string {
  if (stats === undefined) return "";
  return `${c.green(`+${stats.linesAdded}`)} ${c.red(`-${stats.linesRemoved}`)}`;
}

/** How long ago `at` (Unix ms) was: `12s`, `5m`, `3h`, `2d`. */
export function formatAge(at: number, now: number): string {
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

/** A cell of a table: its text and how to color it (the width is that of the plain text). */
export interface Cell {
  text: string;
  color?: (text: string) => string;
}

/**
 * Rows of cells as aligned columns (two spaces apart). The last column is cut to `maxWidth` when
 * given (a terminal's width), so that each row stays one line.
 */
export function renderTable(rows: Cell[][], maxWidth?: number): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, [...cell.text].length);
    });
  }
  const lines = rows.map((row) => {
    let used = 0;
    return row
      .map((cell, i) => {
        const last = i === row.length - 1;
        let text = cell.text;
        if (last && maxWidth !== undefined) {
          const room = Math.max(10, maxWidth - used);
          if ([...text].length > room) text = `${[...text].slice(0, room - 1).join("")}…`;
        }
        const padded = last ? text : text + " ".repeat((widths[i] ?? 0) - [...text].length);
        used += (widths[i] ?? 0) + 2;
        return cell.color === undefined ? padded : cell.color(padded);
      })
      .join("  ")
      .trimEnd();
  });
  return `${lines.join("\n")}\n`;
}

/** `1 file` / `3 files`. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** The detail view of a task: its header, then each attempt's status, stats, PR title, files, message. */
export function formatTaskDetails(c: Colors, task: Task, now: number): string {
  const out: string[] = [];
  out.push(`${c.bold(task.id)}  ${formatStatus(c, task.status)}  ${task.title}`);
  const base = task.baseCommit === undefined ? "" : `  base ${task.baseCommit.slice(0, 12)}`;
  out.push(
    c.dim(
      `  environment ${task.environmentName} (${task.environmentId})  branch ${task.branch}${base}  created ${formatAge(task.createdAt, now)} ago`,
    ),
  );
  if (task.error !== undefined) out.push(`  ${c.red(`error: ${task.error.message}`)}`);
  for (const attempt of task.attempts) {
    const result = extract(task, attempt.index);
    out.push("");
    const stats = attempt.diffStats === undefined ? "" : `  ${formatStats(c, attempt.diffStats)}`;
    const files = attempt.files === undefined ? "" : `  ${plural(attempt.files.length, "file")}`;
    out.push(
      `${c.bold(`attempt ${attempt.index}`)}  ${c.dim(attempt.id)}  ${formatStatus(c, attempt.status)}${stats}${files}`,
    );
    if (attempt.error !== undefined) out.push(`  ${c.red(`error: ${attempt.error.message}`)}`);
    if (attempt.pr !== undefined) out.push(`  PR: ${result.pr.title}`);
    if (attempt.published !== undefined) {
      const pr = attempt.published.pullRequest?.url;
      out.push(`  published: branch ${attempt.published.branch}${pr === undefined ? "" : ` — ${pr}`}`);
    }
    for (const file of result.files) {
      const name = file.oldPath === undefined ? file.path : `${file.oldPath} → ${file.path}`;
      const change = file.binary
        ? "binary"
        : formatStats(c, { filesModified: 1, linesAdded: file.additions, linesRemoved: file.deletions });
      out.push(`  ${file.kind.padEnd(8)}  ${name}  ${change}`);
    }
    if (result.message !== "") {
      out.push(`  ${c.dim("message:")}`);
      for (const line of result.message.trimEnd().split("\n")) out.push(`    ${line}`);
    }
  }
  return `${out.join("\n")}\n`;
}
