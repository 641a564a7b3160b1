// Where one step's time goes. A step runs from the model request that asks for a command to the request
// that carries its result back, and splits at kiln's `item.started` / `item.completed` events:
//
//   request k arrives ──answer──▶ item.started ──command──▶ item.completed ──return──▶ request k+1 arrives
//
// "answer" is the fake model streaming its reply plus kiln parsing it and dispatching the tool call;
// "command" is kiln's own `duration_ms` (sandbox spawn + the command + collecting its output); "return"
// is kiln recording the result and building, serializing and sending the next request. Arrival times
// are when the bench read each line from the two processes' pipes, all on one clock.
import { median } from "./measure.mjs";

/** Per-step segments (ms) of every step of every run, plus each run's start-up and wind-down. */
export function stepBreakdown(runs) {
  const steps = runs.flatMap(stepsOf);
  const column = (key) => steps.map((s) => s[key]);
  return {
    samples: steps.length,
    step: median(column("step")),
    answer: median(column("answer")),
    command: median(column("command")),
    commandEvents: median(column("commandEvents")),
    return: median(column("return")),
    startup: median(runs.map((r) => r.requests[0].at - r.startedAt)),
    windDown: median(runs.map((r) => r.exitedAt - r.requests.at(-1).at)),
    commandByName: commandMedians(steps),
    raw: steps,
  };
}

function stepsOf(run) {
  const started = commandEvents(run, "item.started");
  const completed = commandEvents(run, "item.completed");
  return completed.map((done, k) => {
    const asked = run.requests[k].at;
    const answered = run.requests[k + 1].at;
    return {
      cmd: done.event.item.command,
      step: answered - asked,
      answer: started[k].at - asked,
      command: done.event.item.duration_ms,
      commandEvents: done.at - started[k].at,
      return: answered - done.at,
    };
  });
}

/** Median `duration_ms` per command, `echo step 7` counted as `echo step N`. */
function commandMedians(steps) {
  const byName = new Map();
  for (const s of steps) {
    const name = s.cmd.replace(/\d+$/, "N");
    byName.set(name, [...(byName.get(name) ?? []), s.command]);
  }
  return Object.fromEntries([...byName].map(([name, durations]) => [name, median(durations)]));
}

function commandEvents(run, type) {
  return run.events.filter((e) => e.event.type === type && e.event.item.type === "command_execution");
}
