// Approvals under a step journal whose `approval` hook waits durably (Restate's awakeables): the
// tool's step stops at the question, the hook is asked between steps, and the call runs again in a
// new step with the answer. The command runs once, and a command cut off by a crash after its
// approval is reported to the model, never run again. The journal keeps its records in memory, as
// a durable engine keeps them in its log; its approvals are recorded there too. Steering input from
// the journal's inbox (a durable engine's API nodes) is taken inside steps, and replays the same.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type EventEnvelope,
  type HistoryItem,
  type IdPrefix,
  type InputPart,
  newId,
  type ThreadInfo,
} from "@kiln/protocol";
import { describe, expect, it } from "vitest";
import { useKilnHarness } from "../../test/harness.ts";
import {
  INTERRUPTED_STEP_OUTPUT,
  type PendingApproval,
  type RolloutWriter,
  type StepJournal,
} from "../index.ts";

const harness = useKilnHarness();

/**
 * A journal in memory whose approvals are answered by `decide` and recorded like steps; its inbox
 * (steering input) answers from `inbox` by key and counts its calls.
 */
function memoryJournal(
  decide: (request: PendingApproval) => "approved" | "denied",
  inbox?: Map<string, InputPart[][]>,
) {
  const records: { name: string; value: unknown }[] = [];
  const asked: PendingApproval[] = [];
  let cursor = 0;
  let ids = 0;
  const record = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const recorded = records[cursor];
    cursor++;
    if (recorded !== undefined) {
      expect(recorded.name).toBe(name);
      return structuredClone(recorded.value) as T;
    }
    const value = await fn();
    records.push({ name, value: structuredClone(value) });
    return value;
  };
  const taken: string[] = [];
  const journal: StepJournal & {
    replay(keep?: number): void;
    names(): string[];
    asked: PendingApproval[];
    taken: string[];
  } = {
    step: record,
    ...(inbox === undefined
      ? {}
      : {
          inbox: async (key: string) => {
            taken.push(key);
            return inbox.get(key) ?? [];
          },
        }),
    approval: (request) =>
      record(`approval ${request.id}`, async () => {
        asked.push(request);
        return decide(request);
      }),
    newId(prefix: IdPrefix): string {
      ids++;
      return `${prefix}_${String(ids).padStart(26, "0")}`;
    },
    replay(keep = records.length) {
      records.length = keep;
      cursor = 0;
      ids = 0;
    },
    names: () => records.map((r) => r.name.replace(/call_\w+|apr_\w+|turn_\w+/, "…")),
    asked,
    taken,
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

const approvalEvents = (events: EventEnvelope[]) =>
  events
    .map((e) => e.event)
    .filter((e) => (e.type === "item/started" || e.type === "item/completed") && e.item.type === "approval");

describe("approvals under a journal with an approval hook", () => {
  it("asks the hook between steps and runs the approved command once, in a new step", async () => {
    const { server, kiln, repo } = harness;
    server.setScenario({
      steps: [
        { output: [{ type: "exec_command", cmd: "echo ran >> count.txt" }] },
        { output: [{ type: "message", text: "Counted." }] },
      ],
    });
    const info = kiln.newThreadInfo({ cwd: repo.dir, approvalPolicy: "untrusted" });
    const journal = memoryJournal(() => "approved");
    const turnId = newId("turn");
    const first = await runOnce(info, journal, turnId);
    expect(journal.names()).toEqual([
      "model",
      "start exec_command …",
      "tool exec_command …",
      "approval …",
      "start exec_command … #2",
      "tool exec_command … #2",
      "model",
    ]);
    const [request] = journal.asked;
    expect(journal.asked).toEqual([
      {
        id: expect.stringMatching(/^apr_/),
        kind: "command",
        callId: expect.any(String),
        summary: "echo ran >> count.txt",
        escalated: false,
      },
    ]);
    const item = {
      id: request?.id,
      type: "approval",
      callId: request?.callId,
      kind: "command",
      summary: "echo ran >> count.txt",
      escalated: false,
      decision: "pending",
    };
    expect(approvalEvents(first)).toEqual([
      { type: "item/started", item },
      { type: "item/completed", item: { ...item, decision: "approved" } },
    ]);
    expect(await readFile(join(repo.dir, "count.txt"), "utf8")).toBe("ran\n");
    expect(first.at(-1)?.event).toMatchObject({ type: "turn/completed", turnId, status: "completed" });

    // A replay asks nothing and runs nothing again: the same events, the same approval id.
    journal.replay();
    const replayed = await runOnce(info, journal, turnId);
    expect(replayed.map(({ at: _, ...rest }) => rest)).toEqual(first.map(({ at: _, ...rest }) => rest));
    expect(journal.asked).toHaveLength(1);
    expect(await readFile(join(repo.dir, "count.txt"), "utf8")).toBe("ran\n");
  });

  it("never runs an approved command again when the process died while it ran", async () => {
    const { server, kiln, repo } = harness;
    server.setScenario({
      steps: [
        { output: [{ type: "exec_command", cmd: "echo ran >> count.txt" }] },
        { output: [{ type: "message", text: "Counted." }] },
        { output: [{ type: "message", text: "I will check count.txt." }] },
      ],
    });
    const info = kiln.newThreadInfo({ cwd: repo.dir, approvalPolicy: "untrusted" });
    const journal = memoryJournal(() => "approved");
    const turnId = newId("turn");
    await runOnce(info, journal, turnId);

    // Died after journaling the approved command's start (record 5) and before its output.
    journal.replay(5);
    const replayed = await runOnce(info, journal, turnId);
    expect(journal.asked).toHaveLength(1);
    expect(await readFile(join(repo.dir, "count.txt"), "utf8")).toBe("ran\n");
    const input = harness.requestBody(2).input;
    expect(input.filter((i) => i.type === "function_call_output").map((i) => i.output)).toEqual([
      INTERRUPTED_STEP_OUTPUT,
    ]);
    expect(replayed.at(-1)?.event).toMatchObject({ type: "turn/completed", turnId, status: "completed" });
  });

  it("tells the model the user declined, without running the command", async () => {
    const { server, kiln, repo } = harness;
    server.setScenario({
      steps: [
        { output: [{ type: "exec_command", cmd: "echo ran >> count.txt" }] },
        { output: [{ type: "message", text: "Understood." }] },
      ],
    });
    const info = kiln.newThreadInfo({ cwd: repo.dir, approvalPolicy: "untrusted" });
    const journal = memoryJournal(() => "denied");
    await runOnce(info, journal, newId("turn"));
    expect(await readFile(join(repo.dir, "count.txt"), "utf8").catch(() => "")).toBe("");
    const input = harness.requestBody(1).input;
    expect(input.filter((i) => i.type === "function_call_output").map((i) => i.output)).toEqual([
      expect.stringContaining("The user declined to run this command."),
    ]);
  });
});

describe("on-failure escalation under a journal with an approval hook", () => {
  it("stops at the question after the sandboxed attempt, and with the answer runs the command outside the sandbox without running the sandboxed attempt again", async () => {
    const { server, kiln, repo } = harness;
    const { mkdtemp, rm } = await import("node:fs/promises");
    // Under /usr: read-only in the sandbox, so the write fails there and works outside it.
    const outside = await mkdtemp("/usr/local/kiln-durable-onfailure-");
    try {
      server.setScenario({
        steps: [
          { output: [{ type: "exec_command", cmd: `echo made >> ${outside}/x.txt` }] },
          { output: [{ type: "message", text: "done" }] },
        ],
      });
      const info = kiln.newThreadInfo({ cwd: repo.dir, approvalPolicy: "on-failure" });
      const journal = memoryJournal(() => "approved");
      const turnId = newId("turn");
      const first = await runOnce(info, journal, turnId);
      expect(journal.names()).toEqual([
        "model",
        "start exec_command …",
        "tool exec_command …",
        "approval …",
        "start exec_command … #2",
        "tool exec_command … #2",
        "model",
      ]);
      expect(journal.asked).toEqual([
        expect.objectContaining({
          escalated: true,
          reason: expect.stringMatching(/^it failed in the sandbox/),
        }),
      ]);
      expect(await readFile(join(outside, "x.txt"), "utf8")).toBe("made\n");
      // Two command items: the sandboxed attempt (failed) and the run outside it.
      const commands = first.flatMap(({ event }) =>
        event.type === "item/completed" && event.item.type === "commandExecution"
          ? [event.item.exitCode]
          : [],
      );
      expect(commands).toEqual([expect.any(Number), 0]);
      expect(commands[0]).not.toBe(0);
      expect(
        harness
          .requestBody(1)
          .input.filter((i) => i.type === "function_call_output")
          .map((i) => i.output),
      ).toEqual([expect.stringMatching(/^Exit code: 0/)]);

      // A replay runs nothing again.
      journal.replay();
      await runOnce(info, journal, turnId);
      expect(await readFile(join(outside, "x.txt"), "utf8")).toBe("made\n");
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });
});

describe("steering input from the journal's inbox", () => {
  const steer = (text: string): InputPart[][] => [[{ type: "text", text }]];
  const userTexts = (events: EventEnvelope[]) =>
    events.flatMap(({ event }) =>
      event.type === "item/completed" && event.item.type === "userMessage"
        ? event.item.content.map((p) => (p.type === "text" ? p.text : ""))
        : [],
    );

  it("gives the model input that arrived before a model call, inside that call's step, and replays it", async () => {
    const { server, kiln, repo } = harness;
    server.setScenario({
      steps: [
        { output: [{ type: "exec_command", cmd: "true" }] },
        { output: [{ type: "message", text: "Done, and hi." }] },
      ],
    });
    const info = kiln.newThreadInfo({ cwd: repo.dir, approvalPolicy: "never" });
    const turnId = newId("turn");
    const journal = memoryJournal(() => "approved", new Map([[`${turnId}#2`, steer("STEER: also say hi")]]));
    const first = await runOnce(info, journal, turnId);
    expect(journal.names()).toEqual([
      "model",

      "tool exec_command …",
      "model",
      "inbox …#3",
    ]);
    expect(journal.taken).toEqual([`${turnId}#1`, `${turnId}#2`, `${turnId}#3`]);
    expect(JSON.stringify(harness.requestBody(0).input)).not.toContain("STEER");
    expect(JSON.stringify(harness.requestBody(1).input)).toContain("STEER: also say hi");
    expect(userTexts(first)).toEqual(["count once", "STEER: also say hi"]);

    // A replay takes nothing from the inbox: the steps' records hold the input.
    journal.replay();
    const replayed = await runOnce(info, journal, turnId);
    expect(journal.taken).toHaveLength(3);
    expect(replayed.map(({ at: _, ...rest }) => rest)).toEqual(first.map(({ at: _, ...rest }) => rest));
  });

  it("keeps input a model step took even when that model call fails, in the history and the stream", async () => {
    const { server, kiln, repo } = harness;
    server.setScenario({ steps: [{ fault: { type: "http", status: 400 } }] });
    const info = kiln.newThreadInfo({ cwd: repo.dir, approvalPolicy: "never" });
    const turnId = newId("turn");
    const journal = memoryJournal(() => "approved", new Map([[`${turnId}#1`, steer("STEER: keep me")]]));
    const history: HistoryItem[] = [];
    const thread = harness.kiln.openThread(
      info,
      { history, lastEventSeq: 0, rollout: noRollout },
      { journal },
    );
    const events: EventEnvelope[] = [];
    for await (const envelope of thread.runStreamed("count once", { turnId })) events.push(envelope);
    thread.close();
    expect(events.at(-1)?.event).toMatchObject({ type: "turn/completed", status: "failed" });
    expect(userTexts(events)).toEqual(["count once", "STEER: keep me"]);
    expect(JSON.stringify(history)).toContain("STEER: keep me");
  });

  it("goes on with input that arrived while the model gave its final answer", async () => {
    const { server, kiln, repo } = harness;
    server.setScenario({
      steps: [
        { output: [{ type: "message", text: "First answer." }] },
        { output: [{ type: "message", text: "Second answer, in French." }] },
      ],
    });
    const info = kiln.newThreadInfo({ cwd: repo.dir, approvalPolicy: "never" });
    const turnId = newId("turn");
    const journal = memoryJournal(() => "approved", new Map([[`${turnId}#2`, steer("in French please")]]));
    const events = await runOnce(info, journal, turnId);
    expect(journal.names()).toEqual(["model", "inbox …#2", "model", "inbox …#4"]);
    expect(JSON.stringify(harness.requestBody(1).input)).toContain("in French please");
    expect(userTexts(events)).toEqual(["count once", "in French please"]);
    expect(events.at(-1)?.event).toMatchObject({ type: "turn/completed", status: "completed" });
  });
});
