// Hand-written Prometheus counters: turns, events, HTTP requests by status. Rendered in the text
// exposition format at `/metrics`.

/** The server's counters. */
export interface Metrics {
  turnsStarted: number;
  turnsCompleted: number;
  turnsFailed: number;
  turnsInterrupted: number;
  eventsAppended: number;
  /** HTTP responses by status code. */
  readonly httpRequests: Map<number, number>;
}

/** Gauges read when `/metrics` is scraped. */
export interface MetricGauges {
  turnsRunning: () => number;
  eventSubscribers: () => number;
  pendingApprovals: () => number;
}

/** New zeroed counters. */
export function createMetrics(): Metrics {
  return {
    turnsStarted: 0,
    turnsCompleted: 0,
    turnsFailed: 0,
    turnsInterrupted: 0,
    eventsAppended: 0,
    httpRequests: new Map(),
  };
}

/** The metrics in Prometheus text format. */
export function renderMetrics(m: Metrics, gauges: MetricGauges): string {
  const lines: string[] = [];
  const metric = (name: string, type: "counter" | "gauge", help: string, samples: [string, number][]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
  };
  metric("kiln_turns_running", "gauge", "Turns running now.", [["", gauges.turnsRunning()]]);
  metric("kiln_turns_started_total", "counter", "Turns started (or resumed) by this process.", [
    ["", m.turnsStarted],
  ]);
  metric("kiln_turns_finished_total", "counter", "Turns that ended, by status.", [
    ['{status="completed"}', m.turnsCompleted],
    ['{status="failed"}', m.turnsFailed],
    ['{status="interrupted"}', m.turnsInterrupted],
  ]);
  metric("kiln_events_appended_total", "counter", "Thread events appended to the store.", [
    ["", m.eventsAppended],
  ]);
  metric("kiln_event_subscribers", "gauge", "Open SSE and WebSocket thread subscriptions.", [
    ["", gauges.eventSubscribers()],
  ]);
  metric("kiln_approvals_pending", "gauge", "Approvals waiting for a decision.", [
    ["", gauges.pendingApprovals()],
  ]);
  metric(
    "kiln_http_requests_total",
    "counter",
    "HTTP responses, by status code.",
    [...m.httpRequests.entries()].sort(([a], [b]) => a - b).map(([status, n]) => [`{status="${status}"}`, n]),
  );
  return `${lines.join("\n")}\n`;
}
