// Each Kiln thread is a Restate virtual object keyed by its thread id; `runTurn` is an exclusive
// handler, so a thread runs one turn at a time. A turn:
//   load the thread's state (info, history, last seq) from the object → assemble the thread with
//   `Kiln.openThread` and a Restate step journal → run the SAME agent loop as a single node
//   (`AgentThread.runStreamed`), each model call and tool call a `ctx.run` step → write its events to
//   the store as they come (idempotent by seq) → keep the new history and last seq in the object.
// After a crash Restate re-runs the handler with the journal: recorded steps return their results
// without running again, ids come out the same, so the events are the same and the store skips them.
import type { Kiln, RolloutWriter } from "@kiln/core";
import {
  type HistoryItem,
  InputPart,
  SandboxMode,
  type ThreadEvent,
  type ThreadInfo,
  TurnId,
  type TurnStatus,
  type Usage,
} from "@kiln/protocol";
import type { KilnStore } from "@kiln/store";
import * as restate from "@restatedev/restate-sdk";
import { z } from "zod";
import { awaitApproval } from "./approval-object.ts";
import { createRestateJournal } from "./restate-journal.ts";
import { createStoreEventSink, type EventNotifier } from "./store-event-sink.ts";

/** The Restate name of the thread object (ingress: `/KilnThread/{threadId}/runTurn`). */
export const THREAD_OBJECT = "KilnThread";

/** What `runTurn` is given. */
export const DurableTurnRequest = z.object({
  /** The thread's owner (the store scopes events by user). */
  userId: z.string().min(1),
  /** The turn's id, chosen by the caller so it can answer at once. */
  turnId: TurnId,
  /** The user's input. */
  input: z.union([z.string(), z.array(InputPart)]),
  /** Settings of a new thread (ignored once the thread exists). */
  thread: z
    .object({
      cwd: z.string(),
      model: z.string().optional(),
      sandbox: SandboxMode.optional(),
    })
    .optional(),
});
export type DurableTurnRequest = z.infer<typeof DurableTurnRequest>;

/** What `runTurn` answers. */
export interface DurableTurnResult {
  turnId: string;
  status: TurnStatus;
  finalResponse: string;
  usage: Usage;
  /** The seq of the thread's last event after the turn. */
  lastSeq: number;
  error?: { code: string; message: string };
}

/** What the thread object runs turns with. */
export interface ThreadObjectDeps {
  store: KilnStore;
  /** Assembles threads (configuration, model client, sandbox, tools). */
  kiln: Kiln;
  /** Tells API nodes of stored events (PostgreSQL NOTIFY); without it they poll. */
  notifier?: EventNotifier;
}

/** The thread object, to bind to a Restate endpoint. */
export function createThreadObject(deps: ThreadObjectDeps) {
  return restate.object({
    name: THREAD_OBJECT,
    handlers: {
      runTurn: async (ctx: restate.ObjectContext, raw: unknown): Promise<DurableTurnResult> => {
        const parsed = DurableTurnRequest.safeParse(raw);
        if (!parsed.success) throw new restate.TerminalError(`invalid turn request: ${parsed.error.message}`);
        return runTurn(ctx, parsed.data, deps);
      },
    },
    options: {
      // A model call or a command can be quiet for minutes: the invocation stays with its worker.
      inactivityTimeout: { minutes: 30 },
      abortTimeout: { minutes: 10 },
    },
  });
}

async function runTurn(
  ctx: restate.ObjectContext,
  request: DurableTurnRequest,
  deps: ThreadObjectDeps,
): Promise<DurableTurnResult> {
  const threadId = ctx.key;
  const info = (await ctx.get<ThreadInfo>("info")) ?? (await createThread(ctx, request, deps));
  const history = (await ctx.get<HistoryItem[]>("history")) ?? [];
  const lastSeq = (await ctx.get<number>("lastSeq")) ?? 0;
  const now = await ctx.date.now();
  const controller = new AbortController();
  const onCancel = () => controller.abort();
  // Approvals wait on awakeables between steps (approval-object.ts): the API node resolves them.
  const journal = { ...createRestateJournal(ctx, now, onCancel), approval: awaitApproval(ctx, onCancel) };
  const thread = deps.kiln.openThread(
    info,
    { history, lastEventSeq: lastSeq, rollout: memoryRollout() },
    { journal },
  );
  const sink = createStoreEventSink(deps.store, request.userId, threadId, deps.notifier);
  let result: DurableTurnResult | undefined;
  let seq = lastSeq;
  let finalResponse = "";
  // An error thrown here (the store unreachable, say) fails this attempt only: Restate retries the
  // invocation, which replays from the journal.
  try {
    for await (const envelope of thread.runStreamed(request.input, {
      turnId: request.turnId,
      signal: controller.signal,
    })) {
      seq = envelope.seq;
      const event = envelope.event;
      if (event.type === "turn/completed") {
        result = {
          turnId: event.turnId,
          status: event.status,
          finalResponse: "",
          usage: event.usage,
          lastSeq: seq,
          ...(event.error === undefined
            ? {}
            : { error: { code: event.error.code, message: event.error.message } }),
        };
      }
      if (event.type === "item/completed" && event.item.type === "agentMessage" && result === undefined)
        finalResponse = event.item.text;
      await sink.write([envelope]);
      if (event.type === "turn/completed") await finishTurn(deps, request.userId, threadId, event);
    }
  } finally {
    thread.close();
  }
  if (result === undefined)
    throw new restate.TerminalError(`turn ${request.turnId} ended without turn/completed`);
  ctx.set("history", history);
  ctx.set("lastSeq", seq);
  return { ...result, finalResponse };
}

/**
 * Records the turn's end where API nodes list turns (store.turns, the thread's status). Not a step:
 * both writes are idempotent, and a replay that reaches them again changes nothing.
 */
async function finishTurn(
  deps: ThreadObjectDeps,
  userId: string,
  threadId: string,
  event: Extract<ThreadEvent, { type: "turn/completed" }>,
): Promise<void> {
  const now = Date.now();
  await deps.store.turns.markFinished(event.turnId, {
    status: event.status,
    now,
    ...(event.error === undefined ? {} : { error: event.error }),
  });
  await deps.store.threads.setStatus({ userId, threadId }, "idle", now);
}

/** Makes the thread's settings and its row in the store (once: the step is journaled). */
async function createThread(
  ctx: restate.ObjectContext,
  request: DurableTurnRequest,
  deps: ThreadObjectDeps,
): Promise<ThreadInfo> {
  const settings = request.thread;
  if (settings === undefined) {
    throw new restate.TerminalError(
      `thread ${ctx.key} does not exist: give its settings (thread.cwd) with its first turn`,
    );
  }
  const info = await ctx.run("create thread", async () => {
    // An API node made the thread (and its settings) already: the store's row is the thread.
    const made = await deps.store.threads.get({ userId: request.userId, threadId: ctx.key });
    if (made !== undefined) return made.info;
    const created = deps.kiln.newThreadInfo({
      id: ctx.key,
      cwd: settings.cwd,
      ...(settings.model === undefined ? {} : { model: settings.model }),
      ...(settings.sandbox === undefined ? {} : { sandbox: settings.sandbox }),
      approvalPolicy: "never",
    });
    const title = typeof request.input === "string" ? request.input.slice(0, 80) : "";
    await deps.store.threads.create({
      userId: request.userId,
      info: created,
      title,
      status: "idle",
      now: created.createdAt,
    });
    return created;
  });
  ctx.set("info", info);
  return info;
}

/**
 * The thread's rollout lines are not kept: its history lives in the object's state and its events in
 * the store.
 */
function memoryRollout(): RolloutWriter {
  return { path: "restate:", append: () => undefined, sync: () => undefined, close: () => undefined };
}
