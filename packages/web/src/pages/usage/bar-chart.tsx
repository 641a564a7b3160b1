// A small bar chart as inline SVG (no chart library: the CSP allows only our own scripts, and a few
// rects are all it takes). The SVG is one image with a text summary for screen readers; the numbers
// themselves are in a table under it, which is also the fallback for anyone who prefers reading them.
import { useId } from "react";

/** One bar. */
export interface BarDatum {
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
export function BarChart({ title, data, formatValue = String, labelHeader = "Day", valueHeader }: BarChartProps) {
  const id = useId();
  const max = Math.max(0, ...data.map((d) => d.value));
  const slot = data.length === 0 ? WIDTH : WIDTH / data.length;
  const barWidth = Math.max(1, slot * 0.8);
  const plot = HEIGHT - AXIS - TOP;
  // A label under every bar would overlap past a dozen bars: label the first, the last, and a few between.
  const labelEvery = Math.max(1, Math.ceil(data.length / 6));
  return (
    <figure className="kiln-chart">
      <figcaption id={`${id}-title`}>{title}</figcaption>
      <svg
        role="img"
        aria-labelledby={`${id}-title`}
        aria-describedby={`${id}-summary`}
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        preserveAspectRatio="xMidYMid meet"
        width="100%"
      >
        <desc id={`${id}-summary`}>{summarize(data, formatValue)}</desc>
        <line x1={0} x2={WIDTH} y1={HEIGHT - AXIS} y2={HEIGHT - AXIS} className="kiln-chart-axis" />
        <text x={2} y={TOP - 3} className="kiln-chart-label">
          {data.length === 0 ? "no data" : `max ${formatValue(max)}`}
        </text>
        {data.map((d, i) => {
          const h = max === 0 ? 0 : (d.value / max) * plot;
          const x = i * slot + (slot - barWidth) / 2;
          return (
            <g key={`${d.label}-${i}`}>
              <rect x={x} y={HEIGHT - AXIS - h} width={barWidth} height={h} className="kiln-chart-bar">
                <title>{`${d.label}: ${formatValue(d.value)}`}</title>
              </rect>
              {(i % labelEvery === 0 || i === data.length - 1) && (
                <text
                  x={i * slot + slot / 2}
                  y={HEIGHT - 4}
                  textAnchor="middle"
                  className="kiln-chart-label"
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
          <caption className="kiln-visually-hidden">{title}</caption>
          <thead>
            <tr>
              <th scope="col">{labelHeader}</th>
              <th scope="col">{valueHeader ?? title}</th>
            </tr>
          </thead>
          <tbody>
            {data.map((d, i) => (
              <tr key={`${d.label}-${i}`}>
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
