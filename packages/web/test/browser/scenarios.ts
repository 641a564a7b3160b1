// The fake model's scripts for the browser tests, and the repository the tasks work on: `add.mjs`
// subtracts instead of adding, `test.mjs` says so. A task's scripted agent fixes it with a patch, runs
// the test, records a pull request (`make_pr`) and answers; best of 2 fixes it two different ways.
import type { Scenario, ScenarioStep } from "@kiln/test-support";

/** The files of the repository every task and environment of these tests uses. */
export const ADDER_FILES: Record<string, string> = {
  "add.mjs": "export function add(a, b) {\n  return a - b;\n}\n",
  "test.mjs": `import { add } from "./add.mjs";\nif (add(2, 3) !== 5) { console.error("add(2, 3) should be 5"); process.exit(1); }\nconsole.log("ok");\n`,
  "package.json": '{"type":"module"}\n',
};

/** A patch that makes add.mjs `return <expression>;`. */
export function fixAdd(expression: string): string {
  return `*** Begin Patch\n*** Update File: add.mjs\n@@\n export function add(a, b) {\n-  return a - b;\n+  return ${expression};\n }\n*** End Patch`;
}

/** After its patch, one attempt runs the test, records its PR and answers (steps matched by `marker`). */
function attemptSteps(marker: string, title: string, answer: string): ScenarioStep[] {
  const when = { bodyIncludes: marker };
  return [
    { when, output: [{ type: "exec_command", cmd: "node test.mjs" }] },
    {
      when,
      output: [
        { type: "function_call", name: "make_pr", arguments: { title, body: `Fixes add (${marker}).` } },
      ],
    },
    { when, output: [{ type: "message", text: answer }] },
  ];
}

/** One attempt: patch `a + b`, run the test, PR "Fix add", answer. */
export function fixTask(): Scenario {
  return {
    steps: [
      { output: [{ type: "apply_patch", patch: fixAdd("a + b") }] },
      ...attemptSteps("a + b", "Fix add", "Fixed add: it adds now and the test passes."),
    ],
  };
}

/** Two attempts fixing add differently; the first request of each gets the next unmatched patch, the
 *  rest of an attempt is recognised by its patch in the request body. */
export function bestOfTwo(): Scenario {
  return {
    steps: [
      ...attemptSteps("a + b", "Fix add: a + b", "Attempt with a + b is done."),
      ...attemptSteps("b + a", "Fix add: b + a", "Attempt with b + a is done."),
      { output: [{ type: "apply_patch", patch: fixAdd("a + b") }] },
      { output: [{ type: "apply_patch", patch: fixAdd("b + a") }] },
    ],
  };
}

/** A chat of two turns, one answer each. */
export function twoTurns(first: string, second: string): Scenario {
  return {
    steps: [{ output: [{ type: "message", text: first }] }, { output: [{ type: "message", text: second }] }],
  };
}

/** A turn whose one command needs approval under `untrusted` (touch is not known safe). */
export function commandNeedingApproval(cmd: string, answer: string): Scenario {
  return {
    steps: [{ output: [{ type: "exec_command", cmd }] }, { output: [{ type: "message", text: answer }] }],
  };
}

/** What the slow turn of the network-drop test says and runs, in order. */
export const SLOW_TURN = {
  firstCommand: "echo before-the-drop",
  note: "The first command worked; now the second one, slowly.",
  secondCommand: "echo after-the-drop",
  answer: "Both commands ran.",
} as const;

/** A turn that runs a command, then streams a note and a second command slowly (the network drops
 *  while they arrive), then answers. */
export function slowTurn(chunkDelayMs: number): Scenario {
  return {
    steps: [
      { output: [{ type: "exec_command", cmd: SLOW_TURN.firstCommand }] },
      {
        output: [
          { type: "message", text: SLOW_TURN.note },
          { type: "exec_command", cmd: SLOW_TURN.secondCommand },
        ],
        chunkDelayMs,
      },
      { output: [{ type: "message", text: SLOW_TURN.answer }] },
    ],
  };
}
