import type { Scenario, ScenarioStep } from "./scenario.ts";

/** What the queue answers for one request. */
export type StepPick =
  | { type: "step"; step: ScenarioStep; index: number }
  /** Every step has been served. */
  | { type: "exhausted"; served: number }
  /** Steps remain, but each has a `when` the request does not match. */
  | { type: "unmatched"; served: number; remaining: number };

/** Hands scenario steps to requests, honouring `when` matchers and `repeat` counts. */
export interface StepQueue {
  /** Consumes and returns the first remaining step whose `when` matches `body` (or that has none). */
  take(body: string): StepPick;
  /** How many servings are left (a step with `repeat: 3` counts three times). */
  remaining(): number;
}

/** Creates a queue over a scenario; the scenario itself is never mutated. */
export function createStepQueue(scenario: Scenario): StepQueue {
  const left = scenario.steps.map((step) => step.repeat ?? 1);
  let served = 0;
  const remaining = () => left.reduce((sum, n) => sum + n, 0);
  return {
    take(body) {
      const index = scenario.steps.findIndex(
        (step, i) => (left[i] ?? 0) > 0 && (step.when === undefined || body.includes(step.when.bodyIncludes)),
      );
      const step = scenario.steps[index];
      if (step === undefined) {
        const count = remaining();
        return count === 0 ? { type: "exhausted", served } : { type: "unmatched", served, remaining: count };
      }
      left[index] = (left[index] ?? 1) - 1;
      served++;
      return { type: "step", step, index };
    },
    remaining,
  };
}
