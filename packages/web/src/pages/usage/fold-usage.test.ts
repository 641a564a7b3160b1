import type { TaskSummary, Usage } from "@kiln/protocol";
import { describe, expect, it } from "vitest";
import { daysBetween, foldTaskUsage, foldUsageDays } from "./fold-usage.ts";

const usage = (input: number, output: number): Usage => ({
  inputTokens: input,
  cachedInputTokens: 0,
  outputTokens: output,
  reasoningOutputTokens: 0,
  totalTokens: input + output,
});
const zero = usage(0, 0);

function task(id: string, attempts: (Usage | undefined)[]): TaskSummary {
  return {
    id,
    title: `Task ${id}`,
    environmentId: "env_1",
    environmentName: "repo",
    branch: "main",
    bestOfN: attempts.length,
    status: "completed",
    archived: false,
    createdAt: 0,
    updatedAt: 0,
    lastSeq: 0,
    prompt: "do it",
    attempts: attempts.map((u, index) => ({
      id: `att_${id}_${index}`,
      index,
      threadId: `thr_${index}`,
      sandboxId: `sbx_${index}`,
      status: "completed",
      createdAt: 0,
      updatedAt: 0,
      ...(u === undefined ? {} : { usage: u }),
    })),
  };
}

describe("foldUsageDays", () => {
  it("fills the days without usage with zeros, in date order", () => {
    const report = {
      days: [
        { day: "2025-03-03", calls: 2, usage: usage(30, 5), costUsd: 0.5 },
        { day: "2025-03-01", calls: 1, usage: usage(10, 1), costUsd: 0.1 },
      ],
      total: { calls: 3, usage: usage(40, 6), costUsd: 0.6 },
    };
    expect(foldUsageDays(report)).toEqual([
      { day: "2025-03-01", calls: 1, usage: usage(10, 1), costUsd: 0.1 },
      { day: "2025-03-02", calls: 0, usage: zero, costUsd: 0 },
      { day: "2025-03-03", calls: 2, usage: usage(30, 5), costUsd: 0.5 },
    ]);
  });

  it("covers the asked range even where the report has no rows", () => {
    const report = { days: [], total: { calls: 0, usage: zero, costUsd: 0 } };
    expect(foldUsageDays(report, { from: "2024-12-31", to: "2025-01-01" })).toEqual([
      { day: "2024-12-31", calls: 0, usage: zero, costUsd: 0 },
      { day: "2025-01-01", calls: 0, usage: zero, costUsd: 0 },
    ]);
    expect(foldUsageDays(report)).toEqual([]);
  });

  it("crosses month ends and leap days", () => {
    expect(daysBetween("2024-02-28", "2024-03-01")).toEqual(["2024-02-28", "2024-02-29", "2024-03-01"]);
    expect(daysBetween("2024-03-02", "2024-03-01")).toEqual([]);
  });
});

describe("foldTaskUsage", () => {
  it("sums each task's attempts, leaves out tasks that used nothing, and puts the largest first", () => {
    const rows = foldTaskUsage([
      task("a", [usage(10, 2), undefined]),
      task("b", [usage(100, 20), usage(50, 5)]),
      task("c", [undefined]),
    ]);
    expect(rows).toEqual([
      { taskId: "b", title: "Task b", environmentName: "repo", attempts: 2, usage: usage(150, 25) },
      { taskId: "a", title: "Task a", environmentName: "repo", attempts: 2, usage: usage(10, 2) },
    ]);
  });
});
