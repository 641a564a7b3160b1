// Hand-built Kiln tasks for the WHAM mapping tests, each parsed with the protocol's Task schema so that
// the tests map only what the task service could really answer.
import { type AssistantTurn, type Attempt, type AttemptStatus, Task, type UserTurn } from "@kiln/protocol";

/** A well-formed Kiln id (`<prefix>_` + 26 Crockford characters), numbered for readability. */
export const kilnId = (prefix: string, n: number): string => `${prefix}_01JZ${String(n).padStart(22, "0")}`;

/** The spec's example time, 1795234760.07 s, in Kiln's Unix ms. */
export const T0 = 1_795_234_760_070;

/** The spec's example diff: a new file `hello.txt`. */
export const HELLO_DIFF =
  "diff --git a/hello.txt b/hello.txt\nnew file mode 100644\n--- /dev/null\n+++ b/hello.txt\n@@ -0,0 +1 @@\n+hello\n";

/** The id of every test task. */
export const TASK_ID = kilnId("task", 1);
/** The id of the test tasks' environment. */
export const ENV_ID = kilnId("env", 1);

/** A prompt (user turn `index`), answered by the given attempts. */
export function userTurn(index: number, text: string, attemptIds: string[], createdAt = T0): UserTurn {
  return { id: kilnId("turn", 100 + index), index, input: [{ type: "text", text }], attemptIds, createdAt };
}

/** A run of attempt `attempt` answering user turn `user`; result fields as given. */
export function run(
  attempt: number,
  user: number,
  status: AttemptStatus,
  fields: Partial<AssistantTurn> = {},
): AssistantTurn {
  return {
    id: kilnId("turn", 200 + user * 10 + attempt),
    attemptId: kilnId("att", attempt),
    userTurnId: kilnId("turn", 100 + user),
    status,
    createdAt: T0,
    updatedAt: T0 + 1000,
    ...fields,
  };
}

/** Attempt `index` with its runs (oldest first); its result fields are its latest run's. */
export function attempt(index: number, turns: AssistantTurn[], fields: Partial<Attempt> = {}): Attempt {
  const latest = turns.at(-1);
  return {
    id: kilnId("att", index),
    index,
    threadId: kilnId("thr", index),
    sandboxId: kilnId("sbx", index),
    status: latest?.status ?? "queued",
    ...(latest?.message === undefined ? {} : { message: latest.message }),
    ...(latest?.diff === undefined ? {} : { diff: latest.diff }),
    ...(latest?.diffStats === undefined ? {} : { diffStats: latest.diffStats }),
    ...(latest?.pr === undefined ? {} : { pr: latest.pr }),
    ...(latest?.error === undefined ? {} : { error: latest.error }),
    turns,
    createdAt: T0,
    updatedAt: latest?.updatedAt ?? T0,
    ...fields,
  };
}

/** A task "Add a hello file" in environment "my-env", validated against the protocol's schema. */
export function task(fields: Partial<Task>): Task {
  return Task.parse({
    id: TASK_ID,
    title: "Add a hello file",
    environmentId: ENV_ID,
    environmentName: "my-env",
    branch: "main",
    bestOfN: 1,
    status: "queued",
    archived: false,
    userTurns: [],
    attempts: [],
    createdAt: T0,
    updatedAt: T0 + 1000,
    lastSeq: 1,
    ...fields,
  });
}
