// @vitest-environment happy-dom
// The plan is a read-only checklist: completed steps checked, the running one "mixed".
import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { PlanChecklist } from "./plan-checklist.tsx";

afterEach(cleanup);

describe("PlanChecklist", () => {
  it("shows each step as a read-only checkbox in the state the agent reported", () => {
    render(
      <PlanChecklist
        explanation="Fix the sum, then test."
        steps={[
          { step: "Read sum.js", status: "completed" },
          { step: "Fix the off-by-one", status: "in_progress" },
          { step: "Run the tests", status: "pending" },
        ]}
      />,
    );
    const plan = screen.getByRole("region", { name: "Plan" });
    expect(plan.textContent).toContain("Fix the sum, then test.");
    expect(plan.textContent).toContain("1/3 done");
    const state = (name: string) => {
      const box = screen.getByRole("checkbox", { name }) as HTMLInputElement;
      return { checked: box.checked, mixed: box.indeterminate, disabled: box.disabled };
    };
    expect([state("Read sum.js"), state("Fix the off-by-one"), state("Run the tests")]).toEqual([
      { checked: true, mixed: false, disabled: true },
      { checked: false, mixed: true, disabled: true },
      { checked: false, mixed: false, disabled: true },
    ]);
  });
});
