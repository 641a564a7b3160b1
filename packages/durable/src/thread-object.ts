// Each Kiln thread is a Restate virtual object keyed by its thread id; `runTurn` is an exclusive
// handler, so a thread runs one turn at a time. A turn:
//   load the thread's state (info, history, last seq) from the object → assemble the thread with
//   `Kiln.openThread` and a Restate step journal → run the SAME agent loop as a single node
//   (`AgentThread.runStreamed`), each model call and tool call a `ctx.run` step → write its events to
//   the store as they come (idempotent by seq) → keep the new history and last seq in the object.
// Sub-agents are thread objects of their own, each of their turns a call from the parent's invocation
// (sub-agents.ts); the parent keeps its children's records in its state.
// After a crash Restate re-runs the handler with the journal: recorded steps return their results
// without running again, ids come out the same, so the events are the same and the store skips them.
import { createMakePrTool, type EmbeddedThreadOptions, type Kiln, type StepJournal } from "@kiln/core";
import {
  type EventEnvelope,
  type HistoryItem,
  KilnError,
  type ThreadEvent,
  type ThreadInfo,
  type ThreadItem,
} from "@kiln/protocol";
import type { KilnStore } from "@kiln/store";
import * as restate from "@restatedev/restate-sdk";
import { awaitApproval } from "./approval-object.ts";
import { createRestateJournal, transient } from "./restate-journal.ts";
import { createStoreEventSink, type EventNotifier } from "./store-event-sink.ts";
import { storedRollout } from "./stored-rollout.ts";
import { type ChildRecords, DurableSubAgents } from "./sub-agents.ts";
import { DurableTurnRequest, type DurableTurnResult, THREAD_OBJECT } from "./thread-api.ts";
import { replaceHistory, seedHistory } from "./thread-history.ts";
import type { WorkspaceSync } from "./workspace-sync.ts";

export { DurableTurnRequest, type DurableTurnResult, THREAD_OBJECT } from "./thread-api.ts";

/** What the thread object runs turns with. */
export interface ThreadObjectDeps {
  store: KilnStore;
  /** Assembles threads (configuration, model client, sandbox, tools). */
  kiln: Kiln;
  /**
   * The `Kiln` of a user's threads (the user's own provider keys over the worker's, as an API node's
   * single-node executor does); absent: `kiln` for everyone.
   */
  kilnFor?: (user: { userId: string }) => Promise<Kiln>;
  /** Tells API nodes of stored events (PostgreSQL NOTIFY); without it they poll. */
  notifier?: EventNotifier;
  /**
   * Checkpoints workspaces to the store for workers on node-local disks (workspace-sync.ts); absent:
   * workspaces are on a volume every worker mounts at the same path.
   */
  workspaces?: WorkspaceSync;
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
      /** A rollback an API node planned (thread-history.ts). */
      replaceHistory: (ctx: restate.ObjectContext, raw: unknown) => replaceHistory(ctx, raw, deps),
      /** A fork's settings and starting history (thread-history.ts). */
      seedHistory: (ctx: restate.ObjectContext, raw: unknown) => seedHistory(ctx, raw, deps),
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
  // Where the thread's events and rollout lines go on: after what the object recorded, or after what
  // the store holds when an invocation that stored more was cut off for good (killed through the
  // admin API). Journaled: a replay continues from the same place. The thread's owner is checked
  // here too: the ingress takes any user id.
  const stored = await ctx.run("thread", () =>
    storedPosition(deps.store, request.userId, threadId, request.turnId),
  );
  if (stored === null)
    throw new restate.TerminalError(`thread ${threadId} is not ${request.userId}'s`, { errorCode: 404 });
  const lastSeq = Math.max((await ctx.get<number>("lastSeq")) ?? 0, stored.lastSeq);
  // The thread's rollout lines go to the store (forks and rollbacks are planned from them).
  const rollout = storedRollout(
    deps.store,
    info,
    Math.max((await ctx.get<number>("lastLineSeq")) ?? 0, stored.lastLineSeq),
  );
  const depth = (await ctx.get<number>("depth")) ?? 0;
  const children = (await ctx.get<ChildRecords>("children")) ?? {};
  // Approvals answered "for the session" (or for a command prefix) in earlier turns.
  const sessionApprovals = (await ctx.get<EventEnvelope[]>("sessionApprovals")) ?? [];
  // On node-local disks this worker may lack the files of the thread's last completed step.
  const chain = await deps.workspaces?.prepare(request.userId, info);
  const now = await ctx.date.now();
  // A sub-agent's turn comes from its parent, not an API node: record it where API nodes list turns
  // (its approvals are listed from there).
  if (depth > 0)
    await ctx.run("record turn", () => recordTurn(deps.store, request.userId, threadId, request.turnId, now));
  const controller = new AbortController();
  const onCancel = () => controller.abort();
  // Approvals wait on awakeables between steps (approval-object.ts): the API node resolves them.
  const journal: StepJournal = {
    ...createRestateJournal(ctx, now, onCancel),
    approval: awaitApproval(ctx, onCancel),
    // Steering from API nodes (store.threadInputs), taken inside the turn's model steps.
    // A store error here is retried (the attempt), not recorded as the model step's failure.
    inbox: (key) => transient(() => deps.store.threadInputs.take(request.turnId, key)),
    ...(chain === undefined
      ? {}
      : { afterMutation: () => deps.workspaces?.save(chain, info.cwd) ?? Promise.resolve(undefined) }),
  };
  const kiln = deps.kilnFor === undefined ? deps.kiln : await deps.kilnFor({ userId: request.userId });
  const thread = kiln.openThread(
    info,
    { history, lastEventSeq: lastSeq, rollout, events: sessionApprovals },
    {
      journal,
      depth,
      ...turnExtras(request),
      // Sub-agents are thread objects of their own, called from this invocation (sub-agents.ts).
      subAgents: (parent) =>
        new DurableSubAgents({
          ctx,
          journal,
          userId: request.userId,
          parent,
          children,
          onCancel,
          ...(request.extras === undefined ? {} : { extras: request.extras }),
        }),
    },
  );
  const sink = createStoreEventSink(deps.store, request.userId, threadId, deps.notifier);
  let result: DurableTurnResult | undefined;
  let ended: Extract<ThreadEvent, { type: "turn/completed" }> | undefined;
  let seq = lastSeq;
  let finalResponse = "";
  const items: ThreadItem[] = [];
  // An error thrown here (the store unreachable, say) fails this attempt only: Restate retries the
  // invocation, which replays from the journal.
  try {
    for await (const envelope of thread.runStreamed(request.input, {
      turnId: request.turnId,
      signal: controller.signal,
      ...(request.outputSchema === undefined ? {} : { outputSchema: request.outputSchema }),
    })) {
      seq = envelope.seq;
      const event = envelope.event;
      if (event.type === "turn/completed") {
        ended = event;
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
      if (event.type === "item/completed" && event.item.type !== "userMessage") items.push(event.item);
      if (isSessionApproval(event)) sessionApprovals.push(envelope);
      await sink.write([envelope]);
    }
  } finally {
    thread.close();
  }
  if (result === undefined || ended === undefined)
    throw new restate.TerminalError(`turn ${request.turnId} ended without turn/completed`);
  // The rollout lines are stored before the turn is marked finished: a fork or rollback an API node
  // plans once it sees the turn finished has the whole turn.
  await rollout.flush();
  await finishTurn(deps, request.userId, threadId, ended);
  // Steering input that came after the turn's last step was not used: the thread's stream says so.
  // Taken once the turn is marked finished (an API node refuses input from then on) under the turn's
  // end key, so a retried step answers the same rows and none slips in between.
  const untaken = await ctx.run("untaken input", () =>
    deps.store.threadInputs.take(request.turnId, `${request.turnId}#end`),
  );
  if (untaken.length > 0) {
    seq++;
    const text = untaken.map((parts) => parts.map((p) => (p.type === "text" ? p.text : p.path)).join(" "));
    await sink.write([
      {
        seq,
        threadId,
        turnId: request.turnId,
        at: await ctx.date.now(),
        event: {
          type: "warning",
          message: `input sent while the turn was ending was not used (start a new turn with it): ${text.join(" / ").slice(0, 500)}`,
        },
      },
    ]);
  }
  ctx.set("history", history);
  ctx.set("lastLineSeq", rollout.lastSeq);
  ctx.set("lastSeq", seq);
  ctx.set("children", children);
  ctx.set("sessionApprovals", sessionApprovals);
  return { ...result, finalResponse, items };
}

/**
 * Records the turn's end where API nodes list turns (store.turns, the thread's status). Not a step:
 * marking a finished turn finished changes nothing, and the thread goes `idle` only while it has no
 * unfinished turn (a replay of this turn's end must not mark a newer running turn's thread idle).
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
  const turns = (await deps.store.turns.listByThread({ userId, threadId })) ?? [];
  if (turns.every((t) => t.finishedAt !== undefined))
    await deps.store.threads.setStatus({ userId, threadId }, "idle", now);
}

/**
 * The thread's last stored event and rollout line; null when it is not this user's thread. Steering
 * input of the thread's ended turns is deleted on the way (it was used or reported).
 */
async function storedPosition(
  store: KilnStore,
  userId: string,
  threadId: string,
  turnId: string,
): Promise<{ lastSeq: number; lastLineSeq: number } | null> {
  const thread = await store.threads.get({ userId, threadId });
  if (thread === undefined) return null;
  await store.threadInputs.prune(threadId, turnId);
  return { lastSeq: thread.lastSeq, lastLineSeq: await store.rollout.lastSeq(threadId) };
}

/** Records a turn in `store.turns` (once: a taken id means it is there) and marks the thread running. */
async function recordTurn(
  store: KilnStore,
  userId: string,
  threadId: string,
  turnId: string,
  now: number,
): Promise<void> {
  try {
    await store.turns.create({ id: turnId, threadId, status: "running", now });
  } catch (error) {
    if (!(error instanceof KilnError && error.code === "conflict")) throw error;
  }
  await store.threads.setStatus({ userId, threadId }, "running", now);
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
    const created: ThreadInfo = {
      ...(deps.kilnFor === undefined
        ? deps.kiln
        : await deps.kilnFor({ userId: request.userId })
      ).newThreadInfo({
        id: ctx.key,
        cwd: settings.cwd,
        ...(settings.model === undefined ? {} : { model: settings.model }),
        ...(settings.sandbox === undefined ? {} : { sandbox: settings.sandbox }),
        approvalPolicy: settings.approvalPolicy ?? "never",
      }),
      ...(settings.parentThreadId === undefined ? {} : { parentThreadId: settings.parentThreadId }),
    };
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
  if (settings.depth !== undefined && settings.depth > 0) ctx.set("depth", settings.depth);
  return info;
}

/** The thread options a turn's `extras` ask for (the task tools are the worker's own). */
function turnExtras(request: DurableTurnRequest): Partial<EmbeddedThreadOptions> {
  const extras = request.extras;
  if (extras === undefined) return {};
  return {
    ...(extras.networkAccess === undefined ? {} : { networkAccess: extras.networkAccess }),
    ...(extras.developerInstructions === undefined
      ? {}
      : { developerInstructions: extras.developerInstructions }),
    ...(extras.tools === undefined ? {} : { tools: extras.tools.map(() => createMakePrTool()) }),
  };
}

/** A completed approval that answers later requests of the thread too (the gate's session rules). */
function isSessionApproval(event: ThreadEvent): boolean {
  return (
    event.type === "item/completed" &&
    event.item.type === "approval" &&
    (event.item.decision === "approved_for_session" || event.item.decision === "approved_prefix")
  );
}
