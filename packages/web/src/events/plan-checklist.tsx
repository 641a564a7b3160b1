// The agent's plan (`update_plan`) as a checklist: done (checked), in progress (mixed), to do.
import type { PlanStep } from "@kiln/protocol";
import { memo, useId } from "react";

/** Props of {@link PlanChecklist}. */
export interface PlanChecklistProps {
  steps: readonly PlanStep[];
  explanation?: string;
}

/** The plan as a read-only checklist. */
export const PlanChecklist = memo(function PlanChecklist({ steps, explanation }: PlanChecklistProps) {
  const id = useId();
  const done = steps.filter((s) => s.status === "completed").length;
  return (
    <section className="event card plan" aria-label="Plan">
      <header className="card-header">
        <strong>Plan</strong>
        <span className="card-meta">
          {done}/{steps.length} done
        </span>
      </header>
      {explanation !== undefined && explanation !== "" && <p className="plan-explanation">{explanation}</p>}
      <ul className="plan-steps">
        {steps.map((step, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: two steps may have the same text; a plan is replaced whole
          <li key={i} className={`plan-step plan-${step.status}`}>
            <input
              type="checkbox"
              className="plan-box"
              checked={step.status === "completed"}
              readOnly
              disabled
              aria-labelledby={`${id}-${i}`}
              ref={(box) => {
                // "In progress" is the checkbox's mixed state (only settable as a property).
                if (box !== null) box.indeterminate = step.status === "in_progress";
              }}
            />
            <span id={`${id}-${i}`}>{step.step}</span>
          </li>
        ))}
      </ul>
    </section>
  );
});
