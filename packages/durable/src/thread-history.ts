// Changing a durable thread's history outside a turn: a rollback (`replaceHistory`) and the history a
// fork starts with (`seedHistory`). Both are exclusive handlers of the thread object, so they never
// run during a turn; an API node plans them from the thread's stored rollout lines (the same code a
// single node runs on its JSONL file), and the object applies them to its state, its stored rollout
// and its events. The writes are idempotent by seq, so a handler retried after a crash changes nothing
// twice.
import type { ThreadInfo } from "@kiln/protocol";
import * as restate from "@restatedev/restate-sdk";
import { createStoreEventSink } from "./store-event-sink.ts";
import { storedRollout } from "./stored-rollout.ts";
import { ReplaceHistoryRequest, SeedHistoryRequest } from "./thread-api.ts";
import type { ThreadObjectDeps } from "./thread-object.ts";

/** Rolls the thread back to the planned history; answers the seq of the `warning` event it stored. */
export async function replaceHistory(
  ctx: restate.ObjectContext,
  raw: unknown,
  deps: ThreadObjectDeps,
): Promise<{ lastSeq: number }> {
  const parsed = ReplaceHistoryRequest.safeParse(raw);
  if (!parsed.success) throw new restate.TerminalError(`invalid rollback: ${parsed.error.message}`);
  const request = parsed.data;
  const info = await ctx.get<ThreadInfo>("info");
  if (info === null) throw new restate.TerminalError(`thread ${ctx.key} has no turns`, { errorCode: 404 });
  const lineSeq = (await ctx.get<number>("lastLineSeq")) ?? 0;
  if (lineSeq !== request.expectLineSeq) {
    throw new restate.TerminalError(
      `thread ${ctx.key} changed while the rollback was planned (a turn ran): try again`,
      { errorCode: 409 },
    );
  }
  const rollout = storedRollout(deps.store, info, lineSeq);
  rollout.append("compacted", { turnId: request.lineTurnId, history: request.history });
  await rollout.flush();
  const seq = ((await ctx.get<number>("lastSeq")) ?? 0) + 1;
  const sink = createStoreEventSink(deps.store, request.userId, ctx.key, deps.notifier);
  const at = await ctx.date.now();
  await sink.write([{ seq, threadId: ctx.key, at, event: { type: "warning", message: request.warning } }]);
  ctx.set("history", request.history);
  ctx.set("lastLineSeq", rollout.lastSeq);
  ctx.set("lastSeq", seq);
  return { lastSeq: seq };
}

/** Gives a new thread (a fork) its settings and starting history, before its first turn. */
export async function seedHistory(
  ctx: restate.ObjectContext,
  raw: unknown,
  deps: ThreadObjectDeps,
): Promise<{ threadId: string }> {
  const parsed = SeedHistoryRequest.safeParse(raw);
  if (!parsed.success) throw new restate.TerminalError(`invalid fork: ${parsed.error.message}`);
  const { info, history } = parsed.data;
  if (info.id !== ctx.key) throw new restate.TerminalError(`the fork's id is not ${ctx.key}`);
  if ((await ctx.get<ThreadInfo>("info")) !== null) {
    throw new restate.TerminalError(`thread ${ctx.key} exists already`, { errorCode: 409 });
  }
  const rollout = storedRollout(deps.store, info, 0);
  rollout.append("compacted", { turnId: "fork", history });
  await rollout.flush();
  ctx.set("info", info);
  ctx.set("history", history);
  ctx.set("lastLineSeq", rollout.lastSeq);
  return { threadId: ctx.key };
}
