// Rolling a thread back by N turns: the model forgets them (in this process and after a resume),
// files on disk stay, the events stay, and a running turn or a count out of range is refused.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { KilnError, type ThreadEvent } from "@kiln/protocol";
import { describe, expect, it } from "vitest";
import { useKilnHarness } from "./harness.ts";

const harness = useKilnHarness();
const { messages, requestBody: request } = harness;

const reply = (text: string) => ({ output: [{ type: "message" as const, text }] });

async function collect(events: AsyncIterable<{ event: ThreadEvent }>): Promise<ThreadEvent[]> {
  const out: ThreadEvent[] = [];
  for await (const { event } of events) out.push(event);
  return out;
}

describe("thread rollback", () => {
  it("drops the last two of three turns: the next request has turn 1's prompt only, and so does a resumed thread", async () => {
    const { server, kiln, repo } = harness;
    server.setScenario({
      steps: [
        reply("one"),
        { output: [{ type: "exec_command", cmd: "echo kept > made-in-turn-2.txt" }] },
        reply("two"),
        reply("three"),
        reply("four"),
        reply("five"),
      ],
    });
    const thread = kiln.startThread({ cwd: repo.dir, approvalPolicy: "never" });
    await thread.run("first prompt");
    const second = await thread.run("second prompt");
    const third = await thread.run("third prompt");

    expect(await collect(thread.rollback(2))).toEqual([
      {
        type: "warning",
        message: `Rolled back 2 turns (${second.turnId}, ${third.turnId}): the model no longer sees them. Files changed on disk were not reverted.`,
      },
    ]);

    await thread.run("fourth prompt");
    expect(messages(-1, "user").slice(-2)).toEqual(["first prompt", "fourth prompt"]);
    expect(messages(-1, "assistant")).toEqual(["one"]);
    const sent = JSON.stringify(request(-1));
    expect(sent).not.toContain("second prompt");
    expect(sent).not.toContain("third prompt");
    expect(sent).not.toContain("made-in-turn-2");
    expect(await readFile(join(repo.dir, "made-in-turn-2.txt"), "utf8")).toBe("kept\n");
    thread.close();

    const resumed = kiln.resumeThread(thread.id);
    await resumed.run("fifth prompt");
    resumed.close();
    expect(messages(-1, "user").slice(-3)).toEqual(["first prompt", "fourth prompt", "fifth prompt"]);
    expect(messages(-1, "assistant")).toEqual(["one", "four"]);
    expect(JSON.stringify(request(-1))).not.toContain("second prompt");
  });

  it("counts only the turns earlier rollbacks kept, and rolls back every turn to a fresh start", async () => {
    const { server, kiln, repo } = harness;
    server.setScenario({ steps: [reply("one"), reply("two"), reply("three"), reply("four"), reply("five")] });
    const thread = kiln.startThread({ cwd: repo.dir, approvalPolicy: "never" });
    await thread.run("first prompt");
    await thread.run("second prompt");
    await collect(thread.rollback(1));
    await thread.run("third prompt");
    // Live turns: first, third. Two is the whole thread; three is one too many.
    expect(() => thread.rollback(3)).toThrow(/cannot roll back 3 turns: the thread has 2 turns; give 1 to 2/);
    await collect(thread.rollback(1));
    await thread.run("fourth prompt");
    expect(messages(-1, "user").slice(-2)).toEqual(["first prompt", "fourth prompt"]);

    await collect(thread.rollback(2));
    await thread.run("fifth prompt");
    thread.close();
    const users = messages(-1, "user");
    expect(users.at(-1)).toBe("fifth prompt");
    expect(users.filter((m) => m.endsWith("prompt"))).toEqual(["fifth prompt"]);
    // The fresh start sends the developer and environment context again, as a new thread's first turn does.
    expect(request(-1).input[0]).toMatchObject({ type: "message", role: "developer" });
  });

  it("refuses a count out of range (invalid_request naming turns) and a rollback while a turn runs (conflict)", async () => {
    const { server, kiln, repo } = harness;
    server.setScenario({
      steps: [reply("one"), { output: [{ type: "exec_command", cmd: "sleep 5", yield_time_ms: 10_000 }] }],
    });
    const thread = kiln.startThread({ cwd: repo.dir, approvalPolicy: "never" });
    const none = catchError(() => thread.rollback(1));
    expect(none).toMatchObject({ code: "invalid_request", details: { field: "turns", turns: 0 } });
    expect(none?.message).toMatch(/it has no turns to roll back/);
    await thread.run("first prompt");
    expect(catchError(() => thread.rollback(2))).toMatchObject({ code: "invalid_request" });
    expect(catchError(() => thread.rollback(0))).toMatchObject({ code: "invalid_request" });

    const stream = thread.runStreamed("second prompt")[Symbol.asyncIterator]();
    for (;;) {
      const { value } = await stream.next();
      if (value?.event.type === "item/started" && value.event.item.type === "commandExecution") break;
    }
    expect(catchError(() => thread.rollback(1))).toMatchObject({ code: "conflict" });
    thread.interrupt();
    while (!(await stream.next()).done) {}
    await collect(thread.rollback(1));
    thread.close();
  });
});

function catchError(fn: () => unknown): KilnError | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof KilnError) return error;
    throw error;
  }
  return undefined;
}
