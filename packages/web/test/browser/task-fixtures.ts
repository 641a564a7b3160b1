// Tasks and environments made over the API (as the admin) for tests whose subject is something else:
// the phone-width task list, the terminal. Tests about making them go through the UI instead.
import { createTempGitRepo, type Scenario, type TempGitRepo } from "@kiln/test-support";
import type { KilnUnderTest } from "./kiln-under-test.ts";
import { ADDER_FILES } from "./scenarios.ts";

/** An environment on a fresh copy of the adder repository. */
export async function createAdderEnvironment(
  kiln: KilnUnderTest,
  name: string,
): Promise<{ id: string; repo: TempGitRepo }> {
  const repo = await createTempGitRepo(ADDER_FILES);
  const created = await kiln.api("POST", "/api/v1/environments", {
    name,
    repository: repo.dir,
    branch: "main",
  });
  return { id: created.body.id as string, repo };
}

/** Starts a task playing `scenario` and resolves with it once it has finished (any final status). */
export async function runTaskToEnd(
  kiln: KilnUnderTest,
  request: { environmentId: string; prompt: string; title?: string; bestOfN?: number },
  scenario: Scenario,
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever the task holds
): Promise<any> {
  kiln.model.setScenario(scenario);
  const created = await kiln.api("POST", "/api/v1/tasks", request);
  return waitForTask(kiln, created.body.id as string);
}

/** Polls a task until it is completed, failed or cancelled. */
// biome-ignore lint/suspicious/noExplicitAny: tests read whatever the task holds
export async function waitForTask(kiln: KilnUnderTest, id: string, timeoutMs = 30_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const task = (await kiln.api("GET", `/api/v1/tasks/${id}`)).body;
    if (["completed", "failed", "cancelled"].includes(task.status)) return task;
    if (Date.now() > deadline) throw new Error(`task ${id} is still ${task.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
