// A small bar chart as inline SVG (no chart library: the CSP allows only our own scripts, and a few
// rects are all it takes). The SVG is one image with a text summary for screen readers; the numbers
// themselves are in a table under it, which is also the fallback for anyone who prefers reading them.
import { useId } from "react";

/** One bar. */
export interface BarDatum {
  /** Unique among the chart's bars (a day, a task id). */
  key: string;
  /** Shown under the bar (shortened) and in the table. */
  label: string;
  value: number;
}

/** Props of {@link BarChart}. */
export interface BarChartProps {
  /** The chart's caption, e.g. "Tokens per day". */
  title: string;
  data: readonly BarDatum[];
  /** How a value is written (tooltip, axis, table). */
  formatValue?: (value: number) => string;
  /** The table's header of the label column (default "Day"). */
  labelHeader?: string;
  /** The table's header of the value column (default: the title). */
  valueHeader?: string;
}

const WIDTH = 600;
const HEIGHT = 180;
const AXIS = 18;
const TOP = 14;

/** The largest value and the label of the bar that has it, as the screen reader summary says it. */
function summarize(data: readonly BarDatum[], format: (v: number) => string): string {
  if (data.length === 0) return "no data";
  const total = data.reduce((sum, d) => sum + d.value, 0);
  const peak = data.reduce((best, d) => (d.value > best.value ? d : best), data[0]!);
  return `${data.length} bars, total ${format(total)}, highest ${format(peak.value)} (${peak.label})`;
}

/** A vertical bar chart with a data table. */
export function BarChart({
  title,
  data,
  formatValue = String,
  labelHeader = "Day",
  valueHeader,
}: BarChartProps) {
  const id = useId();
  const max = Math.max(0, ...data.map((d) => d.value));
  const slot = data.length === 0 ? WIDTH : WIDTH / data.length;
  // A few bars stay bars, not slabs: at most 48 units wide.
  const barWidth = Math.max(1, Math.min(48, slot * 0.8));
  const plot = HEIGHT - AXIS - TOP;
  // A label under every bar would overlap past a dozen bars: label the first, the last, and a few between.
  const labelEvery = Math.max(1, Math.ceil(data.length / 6));
  return (
    <figure className="chart">
      <figcaption id={`${id}-title`}>{title}</figcaption>
      <svg
        role="img"
        aria-labelledby={`${id}-title`}
        aria-describedby={`${id}-summary`}
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        preserveAspectRatio="xMidYMid meet"
        width="100%"
      >
        <title>{title}</title>
        <desc id={`${id}-summary`}>{summarize(data, formatValue)}</desc>
        <line x1={0} x2={WIDTH} y1={HEIGHT - AXIS} y2={HEIGHT - AXIS} className="chart-axis" />
        <text x={2} y={TOP - 3} className="chart-label">
          {data.length === 0 ? "no data" : `max ${formatValue(max)}`}
        </text>
        {data.map((d, i) => {
          const h = max === 0 ? 0 : (d.value / max) * plot;
          const x = i * slot + (slot - barWidth) / 2;
          return (
            <g key={d.key}>
              <rect x={x} y={HEIGHT - AXIS - h} width={barWidth} height={h} className="chart-bar">
                <title>{`${d.label}: ${formatValue(d.value)}`}</title>
              </rect>
              {(i % labelEvery === 0 || i === data.length - 1) && (
                <text
                  x={labelX(i, data.length, slot)}
                  y={HEIGHT - 4}
                  textAnchor={labelAnchor(i, data.length)}
                  className="chart-label"
                >
                  {shortLabel(d.label)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <details>
        <summary>{`${title}: table`}</summary>
        <table>
          <caption className="sr-only">{title}</caption>
          <thead>
            <tr>
              <th scope="col">{labelHeader}</th>
              <th scope="col">{valueHeader ?? title}</th>
            </tr>
          </thead>
          <tbody>
            {data.map((d) => (
              <tr key={d.key}>
                <th scope="row">{d.label}</th>
                <td>{formatValue(d.value)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}

/** `2025-01-31` → `01-31`; other labels cut to 12 characters. */
function shortLabel(label: string): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(label)) return label.slice(5);
  return label.length > 12 ? `${label.slice(0, 11)}…` : label;
}

/** Where a bar's label goes: centred under it, but inside the chart at both ends. */
function labelX(i: number, count: number, slot: number): number {
  if (count > 1 && i === 0) return 0;
  if (count > 1 && i === count - 1) return WIDTH;
  return i * slot + slot / 2;
}

function labelAnchor(i: number, count: number): "start" | "middle" | "end" {
  if (count > 1 && i === 0) return "start";
  if (count > 1 && i === count - 1) return "end";
  return "middle";
}
