// @vitest-environment happy-dom
// The bar chart: one labelled image with a summary for screen readers, bars scaled to the largest
// value, and the same numbers in a table.
import { cleanup, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { BarChart } from "./bar-chart.tsx";

afterEach(cleanup);

const data = [
  { key: "2025-03-01", label: "2025-03-01", value: 100 },
  { key: "2025-03-02", label: "2025-03-02", value: 0 },
  { key: "2025-03-03", label: "2025-03-03", value: 50 },
];

describe("BarChart", () => {
  it("is one image named by its title, described by a summary of its data", () => {
    render(<BarChart title="Tokens per day" data={data} formatValue={(v) => `${v} tok`} />);
    const image = screen.getByRole("img", { name: "Tokens per day" });
    const summary = document.getElementById(image.getAttribute("aria-describedby") ?? "");
    expect(summary?.textContent).toBe("3 bars, total 150 tok, highest 100 tok (2025-03-01)");
  });

  it("scales the bars to the largest value", () => {
    const { container } = render(<BarChart title="Tokens per day" data={data} />);
    const heights = [...container.querySelectorAll("rect")].map((r) => Number(r.getAttribute("height")));
    expect(heights[0]).toBeGreaterThan(0);
    expect(heights).toEqual([heights[0], 0, heights[0]! / 2]);
  });

  it("lists the values in a table", () => {
    render(<BarChart title="Cost per day" valueHeader="Cost" data={data} formatValue={(v) => `$${v}`} />);
    const table = screen.getByRole("table", { hidden: true });
    const rows = within(table)
      .getAllByRole("row", { hidden: true })
      .map((row) => [...row.querySelectorAll("th, td")].map((cell) => cell.textContent));
    expect(rows).toEqual([
      ["Day", "Cost"],
      ["2025-03-01", "$100"],
      ["2025-03-02", "$0"],
      ["2025-03-03", "$50"],
    ]);
  });

  it("says when there is nothing to show", () => {
    render(<BarChart title="Tokens per day" data={[]} />);
    const image = screen.getByRole("img", { name: "Tokens per day" });
    expect(document.getElementById(image.getAttribute("aria-describedby") ?? "")?.textContent).toBe(
      "no data",
    );
  });
});
