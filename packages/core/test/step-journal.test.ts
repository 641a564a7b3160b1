// The embedder's step journal (durable execution, e.g. Restate): a turn replayed with the journal of an
// earlier run returns the recorded model responses and tool outputs without calling the model or
// running a command again, and emits the same events (same seqs, same ids); a mutating call that was
// started but not finished is reported to the model instead of being run again. The journal here keeps
// its records in memory, as a durable engine keeps them in its log.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { type EventEnvelope, type HistoryItem, type IdPrefix, newId, type ThreadInfo } from "@kiln/protocol";
import { describe, expect, it } from "vitest";
import { INTERRUPTED_STEP_OUTPUT, type RolloutWriter, type StepJournal } from "../src/index.ts";
import { useKilnHarness } from "./harness.ts";

const harness = useKilnHarness();

/** A journal kept in memory: records step results in order; `replay()` starts reading them again. */
function memoryJournal() {
  const records: { name: string; value: unknown }[] = [];
  let cursor = 0;
  let ids = 0;
  const journal: StepJournal & { replay(keep?: number): void; names(): string[] } = {
    async step<T>(name: string, fn: () => Promise<T>): Promise<T> {
      const recorded = records[cursor];
      cursor++;
      if (recorded !== undefined) {
        expect(recorded.name).toBe(name);
        return structuredClone(recorded.value) as T;
      }
      const value = await fn();
      records.push({ name, value: structuredClone(value) });
      return value;
    },
    newId(prefix: IdPrefix): string {
      ids++;
      return `${prefix}_${String(ids).padStart(26, "0")}`;
    },
    replay(keep = records.length) {
      records.length = keep;
      cursor = 0;
      ids = 0;
    },
    names: () => records.map((r) => r.name),
  };
  return journal;
}

const noRollout: RolloutWriter = {
  path: "memory:",
  append: () => undefined,
  sync: () => undefined,
  close: () => undefined,
};

async function runOnce(info: ThreadInfo, journal: StepJournal, turnId: string): Promise<EventEnvelope[]> {
  const history: HistoryItem[] = [];
  const thread = harness.kiln.openThread(info, { history, lastEventSeq: 0, rollout: noRollout }, { journal });
  const events: EventEnvelope[] = [];
  for await (const envelope of thread.runStreamed("count once", { turnId })) events.push(envelope);
  thread.close();
  return events;
}

/** Events without their timestamps (a replay emits them at another time). */
const timeless = (events: EventEnvelope[]) => events.map(({ at: _, ...rest }) => rest);

describe("a turn with a step journal", () => {
  it("replays model calls and tool calls from the journal without running them again", async () => {
    const { server, kiln, repo } = harness;
    server.setScenario({
      steps: [
        { output: [{ type: "exec_command", cmd: "echo ran >> count.txt" }] },
        { output: [{ type: "message", text: "Counted." }] },
      ],
    });
    const info = kiln.newThreadInfo({ cwd: repo.dir, approvalPolicy: "never" });
    const journal = memoryJournal();
    const turnId = newId("turn");
    const first = await runOnce(info, journal, turnId);
    expect(journal.names()).toEqual([
      "model",
      expect.stringMatching(/^start exec_command /),
      expect.stringMatching(/^tool exec_command /),
      "model",
    ]);

    journal.replay();
    const replayed = await runOnce(info, journal, turnId);
    expect(timeless(replayed)).toEqual(timeless(first));
    expect(server.requests).toHaveLength(2);
    expect(await readFile(join(repo.dir, "count.txt"), "utf8")).toBe("ran\n");
    expect(first.at(-1)?.event).toMatchObject({ type: "turn/completed", turnId, status: "completed" });
  });

  it("tells the model a mutating call was interrupted when the journal shows it started but not finished", async () => {
    const { server, kiln, repo } = harness;
    server.setScenario({
      steps: [
        { output: [{ type: "exec_command", cmd: "echo ran >> count.txt" }] },
        { output: [{ type: "message", text: "Counted." }] },
        { output: [{ type: "message", text: "I will check count.txt." }] },
      ],
    });
    const info = kiln.newThreadInfo({ cwd: repo.dir, approvalPolicy: "never" });
    const journal = memoryJournal();
    const turnId = newId("turn");
    await runOnce(info, journal, turnId);

    // The process died after journaling the start of the command and before its output.
    journal.replay(2);
    const replayed = await runOnce(info, journal, turnId);
    expect(await readFile(join(repo.dir, "count.txt"), "utf8")).toBe("ran\n");
    const input = harness.requestBody(2).input;
    expect(input.filter((i) => i.type === "function_call_output").map((i) => i.output)).toEqual([
      INTERRUPTED_STEP_OUTPUT,
    ]);
    expect(replayed.filter((e) => e.event.type === "warning").map((e) => e.event)).toEqual([
      { type: "warning", message: expect.stringContaining(INTERRUPTED_STEP_OUTPUT) },
    ]);
    expect(replayed.at(-1)?.event).toMatchObject({ type: "turn/completed", turnId, status: "completed" });
  });
});
