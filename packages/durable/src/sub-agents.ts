// Sub-agents on Restate: each child is a thread object of its own (`KilnThread/{childId}`), and each
// of its turns is a call from the parent's invocation (seed 002's "sub-agent = child call"). The child
// runs its turns on whichever worker Restate picks, journals its own steps and stores its own events;
// the parent keeps a record of its children in its object state. Waiting is a race of the children's
// calls against a durable timer, so a replay after a crash sees the same outcome the first run saw.
// The calls carry the child's turn id as idempotency key, so a later turn of the parent can attach to
// a child still running (Restate keeps the result of an idempotent call for a day by default).
import type { StepJournal, SubAgentHost, SubAgentParent, SubAgentResult } from "@kiln/core";
import {
  type ApprovalPolicy,
  addUsage,
  emptyUsage,
  KilnError,
  type ThreadEvent,
  type TurnStatus,
  type Usage,
} from "@kiln/protocol";
import * as restate from "@restatedev/restate-sdk";
import { isCancelled } from "./restate-journal.ts";
import { type DurableTurnRequest, type DurableTurnResult, THREAD_OBJECT } from "./thread-api.ts";

/** A child as the parent's object state keeps it. */
export interface ChildRecord {
  /**
   * The invocations of its turns not waited for yet, oldest first (a message to a running child
   * queues another): cancelled by close_agent, attached to by a wait in a later turn.
   */
  invocations: string[];
  status: TurnStatus | "running";
  finalResponse: string;
}

/** The parent's children by thread id (object state `children`). */
export type ChildRecords = Record<string, ChildRecord>;

/** What the durable sub-agents of one parent turn use. */
export interface DurableSubAgentsOptions {
  ctx: restate.ObjectContext;
  /** The parent thread's journal (ids that are the same on a replay). */
  journal: StepJournal;
  userId: string;
  parent: SubAgentParent;
  /** The parent's children (mutated in place; the caller stores it with the turn). */
  children: ChildRecords;
  /** The parent's invocation was cancelled (an interrupt). */
  onCancel: () => void;
  /** The parent turn's extras (network, instructions, task tools): its children get the same. */
  extras?: DurableTurnRequest["extras"];
}

type ThreadApi = {
  runTurn: (ctx: restate.ObjectContext, request: DurableTurnRequest) => Promise<DurableTurnResult>;
};

/** How one of a child's calls ended, as a value (a failed call must not fail the parent's wait). */
interface CallOutcome {
  result: DurableTurnResult | undefined;
  failure: { code: number; message: string } | undefined;
}

/** How a child's pending calls ended, oldest first. */
interface Outcome {
  id: string;
  calls: CallOutcome[];
}

/** The sub-agents of one durable thread during one of its turns. */
export class DurableSubAgents implements SubAgentHost {
  readonly journalsItself = true;
  private emit: (event: ThreadEvent) => void = () => undefined;
  private usage: Usage = emptyUsage();
  /** Calls made or attached to in this invocation, by invocation id. */
  private readonly calls = new Map<string, restate.RestatePromise<DurableTurnResult>>();

  constructor(private readonly o: DurableSubAgentsOptions) {}

  attach(emit: (event: ThreadEvent) => void): void {
    this.emit = emit;
  }

  takeUsage(): Usage {
    const usage = this.usage;
    this.usage = emptyUsage();
    return usage;
  }

  /** Children are durable: they go on when the parent's turn ends (close_agent stops one). */
  closeAll(): void {}

  ids(): string[] {
    return Object.keys(this.o.children);
  }

  async spawn(prompt: string, model: string | undefined, approvalPolicy: ApprovalPolicy): Promise<string> {
    const { parent } = this.o;
    if (parent.depth + 1 > parent.maxDepth) {
      throw new KilnError(
        "invalid_request",
        `sub-agent depth limit reached (${parent.maxDepth}): do this work yourself`,
      );
    }
    this.checkCapacity();
    const childId = this.o.journal.newId("thr");
    await this.call(childId, {
      userId: this.o.userId,
      turnId: this.o.journal.newId("turn"),
      input: prompt,
      ...(this.o.extras === undefined ? {} : { extras: this.o.extras }),
      thread: {
        cwd: parent.info.cwd,
        model: model ?? parent.info.model,
        sandbox: parent.info.sandbox,
        approvalPolicy,
        parentThreadId: parent.info.id,
        depth: parent.depth + 1,
      },
    });
    return childId;
  }

  /**
   * A message to a child: its next turn. To a running child it is queued behind the running turn (a
   * thread object runs one turn at a time); a wait then waits for both.
   */
  async send(id: string, message: string): Promise<void> {
    if (this.get(id).status !== "running") this.checkCapacity();
    await this.call(id, {
      userId: this.o.userId,
      turnId: this.o.journal.newId("turn"),
      input: message,
      ...(this.o.extras === undefined ? {} : { extras: this.o.extras }),
    });
  }

  async wait(ids: string[], timeoutMs: number, signal: AbortSignal): Promise<SubAgentResult[]> {
    if (signal.aborted) throw new KilnError("turn_interrupted", "the turn was interrupted");
    const records = ids.map((id) => [id, this.get(id)] as const);
    const pending = new Map<string, restate.RestatePromise<Outcome>>();
    for (const [id, record] of records) {
      if (record.status !== "running" || record.invocations.length === 0) continue;
      const calls = record.invocations.map((invocationId) =>
        this.callOf(invocationId).map(
          (result, failure): CallOutcome => ({
            result,
            failure: failure === undefined ? undefined : { code: failure.code, message: failure.message },
          }),
        ),
      );
      pending.set(
        id,
        restate.RestatePromise.all(calls).map((outcomes): Outcome => ({ id, calls: outcomes ?? [] })),
      );
    }
    if (pending.size > 0) {
      const deadline = this.o.ctx.sleep(timeoutMs).map(() => undefined);
      try {
        while (pending.size > 0) {
          const first = await restate.RestatePromise.race([...pending.values(), deadline]);
          if (first === undefined) break;
          pending.delete(first.id);
          this.finish(first);
        }
      } catch (error) {
        if (!isCancelled(error)) throw error;
        this.o.onCancel();
        throw new KilnError("turn_interrupted", "the turn was interrupted");
      }
    }
    return records.map(([id, record]) => ({
      id,
      status: record.status,
      finalResponse: record.finalResponse,
    }));
  }

  async close(id: string): Promise<void> {
    const record = this.get(id);
    if (record.status === "running") {
      for (const invocationId of record.invocations)
        this.o.ctx.invocation(restate.InvocationIdParser.fromString(invocationId)).cancel();
    }
    for (const invocationId of record.invocations) this.calls.delete(invocationId);
    delete this.o.children[id];
  }

  /** Calls the child's `runTurn` (journaled by Restate; the turn id is the idempotency key). */
  private async call(childId: string, request: DurableTurnRequest): Promise<void> {
    const promise = this.o.ctx
      .objectClient<ThreadApi>({ name: THREAD_OBJECT }, childId)
      .runTurn(request, restate.rpc.opts({ idempotencyKey: request.turnId }));
    const invocationId = await promise.invocationId;
    this.calls.set(invocationId, promise);
    const record = this.o.children[childId];
    const waiting = record?.status === "running" ? record.invocations : [];
    this.o.children[childId] = {
      invocations: [...waiting, invocationId],
      status: "running",
      finalResponse: "",
    };
  }

  /** A child's call: made in this invocation, or attached to (made in an earlier turn). */
  private callOf(invocationId: string): restate.RestatePromise<DurableTurnResult> {
    let call = this.calls.get(invocationId);
    if (call === undefined) {
      call = this.o.ctx
        .invocation(restate.InvocationIdParser.fromString(invocationId))
        .attach<DurableTurnResult>();
      this.calls.set(invocationId, call);
    }
    return call;
  }

  /** Records a child's finished turns and shows them in the parent's stream. */
  private finish(outcome: Outcome): void {
    const record = this.o.children[outcome.id];
    if (record === undefined) return;
    for (const call of outcome.calls) {
      const result = call.result;
      if (result === undefined) {
        // Cancelled (close_agent, or the parent's interrupt reached it) or failed outright.
        record.status = call.failure?.code === 409 ? "interrupted" : "failed";
        record.finalResponse = call.failure?.message ?? "";
      } else {
        record.status = result.status;
        record.finalResponse = result.finalResponse;
        this.usage = addUsage(this.usage, result.usage);
        for (const item of result.items ?? [])
          this.emit({ type: "subAgent/item", childThreadId: outcome.id, item });
      }
      this.emit({
        type: "subAgent/turnCompleted",
        childThreadId: outcome.id,
        status: record.status,
        usage: result?.usage ?? emptyUsage(),
        finalResponse: record.finalResponse,
      });
    }
    record.invocations = [];
  }

  private get(id: string): ChildRecord {
    const record = this.o.children[id];
    if (record === undefined)
      throw new KilnError("not_found", `no sub-agent ${id} (known: ${this.ids().join(", ") || "none"})`);
    return record;
  }

  private checkCapacity(): void {
    const running = Object.values(this.o.children).filter((c) => c.status === "running").length;
    if (running >= this.o.parent.maxConcurrent) {
      throw new KilnError(
        "conflict",
        `${running} sub-agents are already running (the limit is ${this.o.parent.maxConcurrent}): wait for one with wait_agent first`,
      );
    }
  }
}
