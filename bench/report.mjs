// Turns benchmark results into the printed table. Figures only: a missed target is a word in the table,
// never an exit code, because timings on shared machines are evidence, not a gate.

/** Milliseconds, one decimal below 100 ms. */
export const ms = (value) => (Number.isFinite(value) ? `${value.toFixed(value < 100 ? 1 : 0)} ms` : "—");

/** kB as /proc reports them (KiB) to MiB. */
export const mib = (kb) => (Number.isFinite(kb) ? `${(kb / 1024).toFixed(1)} MiB` : "—");

/** `≤ 40 ms: within target` or `… over target`; `value` and `limit` are both in `unit`. */
export function target(value, limit, unit) {
  return `≤ ${limit} ${unit}: ${value <= limit ? "within target" : "over target"}`;
}

/** A table row from a summary (`{ median, min, max }`) formatted with `format`. */
export function summaryRow(label, summary, format, targetText = "") {
  return [label, format(summary.median), format(summary.min), format(summary.max), targetText];
}

/** A table row with a single figure. */
export function figureRow(label, text, targetText = "") {
  return [label, text, "", "", targetText];
}

/** A full-width line inside the table (a section title). */
export function sectionRow(title) {
  return { section: title };
}

/** Renders rows (arrays of cells, or section rows) under a header, with aligned columns. */
export function renderTable(rows) {
  const header = ["benchmark", "median", "min", "max", "target"];
  const cells = rows.filter((r) => Array.isArray(r));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)));
  const line = (r) =>
    r
      .map((cell, i) => (i === 0 || i === r.length - 1 ? cell.padEnd(widths[i]) : cell.padStart(widths[i])))
      .join("  ")
      .trimEnd();
  // The rule stops at the start of the last column: a long note there should not stretch it.
  const rule = "─".repeat(widths.slice(0, -1).reduce((sum, w) => sum + w + 2, 0) + header.at(-1).length);
  const body = rows.map((r, i) => (Array.isArray(r) ? line(r) : `${i === 0 ? "" : "\n"}${r.section}`));
  return [line(header), rule, ...body].join("\n");
}
