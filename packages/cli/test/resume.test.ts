import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { finish, runKiln, startKiln, useCliHarness } from "./run-kiln.ts";

const cli = useCliHarness();
const { requestBody } = cli;

/** Starts a turn that runs one command, then a long one, and SIGKILLs kiln while the long one runs. */
async function killMidTurn(cwd: string): Promise<string> {
  const child = startKiln(["exec", "--json", "count, then wait"], { cwd, env: cli.home.env });
  const run = finish(child);
  let seen = "";
  await new Promise<void>((resolve) => {
    child.stdout?.on("data", (d: Buffer) => {
      seen += d.toString();
      if (seen.includes('"command":"sleep 30"')) resolve();
    });
  });
  child.kill("SIGKILL");
  const killed = await run;
  expect(killed.signal).toBe("SIGKILL");
  const started = killed.events[0];
  if (started?.type !== "thread.started") throw new Error("no thread.started");
  return started.thread_id;
}

const killScenario = [
  { output: [{ type: "exec_command" as const, cmd: "echo ran >> count.txt" }] },
  { output: [{ type: "exec_command" as const, cmd: "sleep 30", yield_time_ms: 60_000 }] },
];

describe("kiln exec resume after SIGKILL", () => {
  it("continues with a new prompt: completed calls are not run again and the cut-off call is reported as interrupted", async () => {
    const { server, home } = cli;
    const repo = await cli.tempRepo({ "README.md": "hi\n" });
    server.setScenario({ steps: [...killScenario, { output: [{ type: "message", text: "Resumed." }] }] });
    const threadId = await killMidTurn(repo.dir);

    const resumed = await runKiln(["exec", "--json", "resume", threadId, "go on"], {
      cwd: repo.dir,
      env: home.env,
    });
    expect(resumed.stderr).toBe("");
    expect(resumed.code).toBe(0);
    expect(resumed.events[0]).toEqual({ type: "thread.started", thread_id: threadId });
    // The turn the crash cut off is closed quietly: a Codex SDK client sees one clean turn.
    expect(resumed.events.map((e) => e.type)).toEqual([
      "thread.started",
      "turn.started",
      "item.completed",
      "turn.completed",
    ]);
    expect(resumed.events[2]).toEqual({
      type: "item.completed",
      item: { id: "item_0", type: "agent_message", text: "Resumed." },
    });
    expect(await readFile(`${repo.dir}/count.txt`, "utf8")).toBe("ran\n");

    const last = requestBody(-1);
    const outputs = last.input.filter((i) => i.type === "function_call_output").map((i) => i.output ?? "");
    expect(outputs).toHaveLength(2);
    expect(outputs[0]).toMatch(/^Exit code: 0/);
    expect(outputs[1]).toMatch(/interrupted: the Kiln process stopped while it was running/);
    const userTexts = last.input.filter((i) => i.type === "message").map((i) => i.content?.[0]?.text);
    expect(userTexts.slice(-2)).toEqual(["count, then wait", "go on"]);
  });

  it("continues the cut-off turn itself when no prompt is given", async () => {
    const { server, home } = cli;
    const repo = await cli.tempRepo({ "README.md": "hi\n" });
    server.setScenario({
      steps: [...killScenario, { output: [{ type: "message", text: "Carried on." }] }],
    });
    await killMidTurn(repo.dir);
    const resumed = await runKiln(["exec", "--json", "resume", "--last"], { cwd: repo.dir, env: home.env });
    expect(resumed.code).toBe(0);
    expect(resumed.events.map((e) => e.type)).toEqual([
      "thread.started",
      "turn.started",
      "item.completed",
      "turn.completed",
    ]);
    expect(await readFile(`${repo.dir}/count.txt`, "utf8")).toBe("ran\n");
    expect(server.requests).toHaveLength(3);
  });

  it("says there is nothing to continue when the last turn completed and no prompt is given", async () => {
    const { server, home } = cli;
    const repo = await cli.tempRepo({ "README.md": "hi\n" });
    server.setScenario({ steps: [{ output: [{ type: "message", text: "Hi." }] }] });
    const first = await runKiln(["exec", "--json", "hi"], { cwd: repo.dir, env: home.env });
    expect(first.code).toBe(0);
    const again = await runKiln(["exec", "resume", "--last"], { cwd: repo.dir, env: home.env });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/no unfinished turn to continue: give a prompt/);
  });
});
