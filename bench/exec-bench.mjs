// Benchmark 1: whole `kiln exec --json` processes on a scripted task. Each run gets a fresh fake model
// process, KILN_HOME and git repository, so no run inherits another's warm state but the OS page cache.
// N-step runs and 0-step runs alternate, so a slow stretch of the machine lands on both kinds alike and
// cancels out of the per-step difference.
import { startFakeModel } from "./fake-model.mjs";
import { createKilnHome, runKilnExec } from "./kiln-exec.mjs";
import { repeat } from "./measure.mjs";
import { repoFiles, scriptedTask } from "./scenarios.mjs";
import { createTempRepo } from "./temp-repo.mjs";

const prompt = "Look around the repository and report what you find.";

/**
 * Runs the `steps`-step task and the 0-step task `runs` times each (after one untimed warm-up of each)
 * and resolves with `{ stepped: Run[], empty: Run[] }`; see {@link runOnce} for a Run.
 */
export async function benchExec({ root, steps, runs }) {
  await runOnce(root, 0);
  await runOnce(root, steps);
  const pairs = await repeat(runs, async () => ({
    empty: await runOnce(root, 0),
    stepped: await runOnce(root, steps),
  }));
  return { stepped: pairs.map((p) => p.stepped), empty: pairs.map((p) => p.empty) };
}

/**
 * One run, checked (exit 0, every command event, every scenario step served) so a broken build cannot
 * pass for a fast one. Resolves with `runKilnExec`'s result plus `requests` (the fake model's log).
 */
async function runOnce(root, steps) {
  const model = await startFakeModel(root, scriptedTask(steps));
  const home = createKilnHome(model.url);
  const repo = createTempRepo(repoFiles);
  try {
    const run = await runKilnExec({ root, cwd: repo.dir, env: home.env, prompt });
    const result = { ...run, requests: [...model.requests] };
    check(result, steps);
    return result;
  } finally {
    await model.close();
    home.cleanup();
    repo.cleanup();
  }
}

function check(run, steps) {
  const commands = run.events.filter(
    (e) => e.event.type === "item.completed" && e.event.item.type === "command_execution",
  );
  const failed = commands.filter((e) => e.event.item.exit_code !== 0).map((e) => e.event.item.command);
  const problems = [
    run.code !== 0 && `kiln exited with ${run.code ?? run.signal}`,
    commands.length !== steps && `${commands.length} of ${steps} commands completed`,
    failed.length > 0 && `commands failed: ${failed.join(", ")}`,
    run.requests.length !== steps + 1 && `${run.requests.length} of ${steps + 1} model requests made`,
  ].filter(Boolean);
  if (problems.length === 0) return;
  throw new Error(
    `kiln exec (${steps} steps) misbehaved: ${problems.join("; ")}\nstderr: ${run.stderr.trim()}`,
  );
}
