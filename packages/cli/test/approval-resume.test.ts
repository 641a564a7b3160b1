// An interactive approval survives a SIGKILL: the real bundled CLI runs under a real terminal
// (node-pty) so `kiln exec` asks at /dev/tty; killed at the prompt, the rollout keeps the approval
// pending, and `kiln exec resume --last` asks the same approval again and finishes the turn.
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { type ApprovalItem, RolloutLine } from "@kiln/protocol";
import * as pty from "node-pty";
import { describe, expect, it } from "vitest";
import { KILN_BIN, useCliHarness } from "./run-kiln.ts";

const cli = useCliHarness();

const WAIT_MS = 15_000;

/** `kiln ARGS` running under a pseudo-terminal, with what it printed so far (colours stripped). */
interface KilnTerminal {
  readonly screen: string;
  waitFor(text: string): Promise<void>;
  write(keys: string): void;
  exited: Promise<{ exitCode: number; signal: number | undefined }>;
  kill(): void;
}

function startKilnTerminal(args: string[], cwd: string): KilnTerminal {
  const p = pty.spawn(process.execPath, [KILN_BIN, ...args], {
    cwd,
    env: { ...cli.home.env, TERM: "xterm-256color" },
    cols: 120,
    rows: 40,
  });
  let screen = "";
  const watchers: (() => void)[] = [];
  p.onData((data) => {
    screen += data.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
    for (const watcher of [...watchers]) watcher();
  });
  let alive = true;
  const exited = new Promise<{ exitCode: number; signal: number | undefined }>((resolve) => {
    p.onExit(({ exitCode, signal }) => {
      alive = false;
      resolve({ exitCode, signal });
    });
  });
  return {
    get screen() {
      return screen;
    },
    waitFor(text) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`timed out waiting for ${JSON.stringify(text)}; the terminal shows:\n${screen}`));
        }, WAIT_MS);
        const check = () => {
          if (!screen.includes(text)) return;
          clearTimeout(timer);
          watchers.splice(watchers.indexOf(check), 1);
          resolve();
        };
        watchers.push(check);
        check();
      });
    },
    write: (keys) => p.write(keys),
    exited,
    kill() {
      if (alive) p.kill("SIGKILL");
    },
  };
}

/** The one rollout under KILN_HOME/sessions, parsed and checked line by line. */
async function readTheRollout(): Promise<RolloutLine[]> {
  const sessions = join(cli.home.home, "sessions");
  const files = (await readdir(sessions, { recursive: true })).filter((f) => f.endsWith(".jsonl"));
  expect(files).toHaveLength(1);
  const text = await readFile(join(sessions, files[0] as string), "utf8");
  return text
    .trim()
    .split("\n")
    .map((line) => RolloutLine.parse(JSON.parse(line)));
}

/** The approval item events a rollout journaled, in order. */
function approvalEvents(lines: RolloutLine[]): { type: string; item: ApprovalItem }[] {
  return lines.flatMap((line) => {
    if (line.kind !== "event") return [];
    const event = line.payload.event;
    if (event.type !== "item/started" && event.type !== "item/completed") return [];
    return event.item.type === "approval" ? [{ type: event.type, item: event.item }] : [];
  });
}

const scenario = {
  steps: [
    { output: [{ type: "exec_command" as const, cmd: "touch made.txt" }] },
    { output: [{ type: "message" as const, text: "Made it." }] },
  ],
};

/** Starts `kiln exec -a untrusted`, waits for its approval prompt, SIGKILLs it; returns the pending approval. */
async function killAtApproval(cwd: string): Promise<ApprovalItem> {
  const first = startKilnTerminal(["exec", "-a", "untrusted", "make a file"], cwd);
  try {
    await first.waitFor("approval needed");
    first.kill();
    expect(await first.exited).toEqual({ exitCode: 0, signal: 9 });
  } finally {
    first.kill();
  }
  expect(first.screen).toContain("approval needed: run touch made.txt");
  const approvals = approvalEvents(await readTheRollout());
  expect(approvals).toEqual([
    {
      type: "item/started",
      item: {
        id: expect.stringMatching(/^apr_/),
        type: "approval",
        callId: expect.any(String),
        kind: "command",
        summary: "touch made.txt",
        escalated: false,
        decision: "pending",
      },
    },
  ]);
  expect(existsSync(join(cwd, "made.txt"))).toBe(false);
  return approvals[0]?.item as ApprovalItem;
}

describe("an approval cut off by SIGKILL", () => {
  it("is asked again by `kiln exec resume --last`, and the turn completes once it is approved", async () => {
    const { server } = cli;
    const repo = await cli.tempRepo({ "README.md": "hi\n" });
    server.setScenario(scenario);
    const pending = await killAtApproval(repo.dir);

    const resumed = startKilnTerminal(["exec", "resume", "--last", "-a", "untrusted"], repo.dir);
    try {
      await resumed.waitFor("approval needed");
      expect(resumed.screen).toContain("approval needed: run touch made.txt");
      resumed.write("y\r");
      expect(await resumed.exited).toEqual({ exitCode: 0, signal: 0 });
    } finally {
      resumed.kill();
    }
    expect(resumed.screen).toContain("Made it.");
    expect(existsSync(join(repo.dir, "made.txt"))).toBe(true);
    expect(approvalEvents(await readTheRollout())).toEqual([
      { type: "item/started", item: pending },
      { type: "item/completed", item: { ...pending, decision: "approved" } },
    ]);
    expect(server.requests).toHaveLength(2);
  });

  it("tells the model the command was declined when the resumed prompt is answered no", async () => {
    const { server } = cli;
    const repo = await cli.tempRepo({ "README.md": "hi\n" });
    server.setScenario(scenario);
    const pending = await killAtApproval(repo.dir);

    const resumed = startKilnTerminal(["exec", "resume", "--last"], repo.dir);
    try {
      await resumed.waitFor("approval needed");
      resumed.write("n\r");
      expect(await resumed.exited).toEqual({ exitCode: 0, signal: 0 });
    } finally {
      resumed.kill();
    }
    expect(existsSync(join(repo.dir, "made.txt"))).toBe(false);
    expect(approvalEvents(await readTheRollout())).toEqual([
      { type: "item/started", item: pending },
      { type: "item/completed", item: { ...pending, decision: "denied" } },
    ]);
    const last = cli.requestBody(-1);
    expect(last.input.filter((i) => i.type === "function_call_output").map((i) => i.output)).toEqual([
      "The user declined to run this command. Do not retry it; find another way or ask the user.",
    ]);
  });
});
