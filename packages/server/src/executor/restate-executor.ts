// Runs turns on workers through a durable engine (Restate): the API node's side of the turn-execution
// port. This process runs no agent loop. Sequence of a turn:
//   1. `createThread` makes the thread's settings (`Kiln.newThreadInfo`, this node's configuration)
//      and its row in the store; the worker's thread object reads that row on the thread's first turn.
//   2. `startTurn` checks the caller owns the thread and that no turn of it is unfinished, records the
//      turn (store.turns, `running`) and submits it (`client.submit`, the turn id as idempotency key);
//      the invocation id is kept for `interrupt`.
//   3. The worker writes the turn's events, the turn's end and the thread's status to the store; the
//      API nodes stream them from there (a live event source feeds each node's hub).
//   4. A call that needs a person waits on the worker (an awakeable); its pending `approval` item is
//      in the store's events, so every API node lists it (`listApprovals`) and answers it
//      (`respondApproval` → the engine wakes the turn).
// The engine client is injected (the CLI builds it from @kiln/durable), so this package never loads
// the Restate SDK. Forks and rollbacks are planned here from the thread's stored rollout lines (with
// core's rollout readers) and applied by the thread's object; steering input goes through the store.
import { MAKE_PR_TOOL, planRollback, readRollout, rollbackWarning } from "@kiln/core";
import type {
  ApprovalDecisionInput,
  CreateThreadRequest,
  HistoryItem,
  PendingApprovalResource,
  StartTurnRequest,
  ThreadInfo,
  TurnInput,
} from "@kiln/protocol";
import { emptyUsage, KilnError, newId } from "@kiln/protocol";
import type { KilnStore, StoredThread, ThreadScope } from "@kiln/store";
import type { KilnFactory } from "./kiln-factory.ts";
import { withRolloutFile } from "./stored-rollout-file.ts";
import type { ThreadExtras, ThreadExtrasProvider, TurnExecutor } from "./turn-executor.ts";
import { checkInputPaths, checkWorkspaceCwd, createWorkspace, titleFrom } from "./workspace.ts";

/** What a worker adds to a thread for a turn (a task attempt's network, instructions, tools). */
export interface DurableTurnExtras {
  networkAccess?: boolean;
  developerInstructions?: string;
  /** Tools the workers provide themselves, by name. */
  tools?: "make_pr"[];
}

/** What a durable turn is submitted with (the worker's `DurableTurnRequest`). */
export interface DurableTurnSubmission {
  userId: string;
  turnId: string;
  input: TurnInput;
  extras?: DurableTurnExtras;
  outputSchema?: Record<string, unknown>;
  thread: { cwd: string };
}

/** The engine as an API node uses it (see `createDurableClient` in @kiln/durable). */
export interface DurableTurnClient {
  /** Submits a turn to the thread's object; resolves to the engine's invocation id. */
  submit(threadId: string, request: DurableTurnSubmission, signal?: AbortSignal): Promise<string>;
  /**
   * Cancels the thread's running invocation: `invocationId` when this node submitted it, else the
   * engine looks it up by thread.
   */
  interrupt(threadId: string, invocationId: string | undefined, signal?: AbortSignal): Promise<void>;
  /** Answers a pending approval: the engine wakes the turn waiting for it. */
  decideApproval(approvalId: string, decision: ApprovalDecisionInput, signal?: AbortSignal): Promise<void>;
  /** Where the invocation of a thread's turn is (Restate's introspection). */
  turnInvocation(
    threadId: string,
    turnId: string,
    signal?: AbortSignal,
  ): Promise<"running" | "completed" | "unknown">;
  /** Rolls the thread's object back to a planned history (its `replaceHistory` handler). */
  replaceHistory(
    threadId: string,
    request: {
      userId: string;
      history: HistoryItem[];
      lineTurnId: string;
      expectLineSeq: number;
      warning: string;
    },
    signal?: AbortSignal,
  ): Promise<void>;
  /** Gives a new thread's object (a fork) its settings and history (its `seedHistory` handler). */
  seedHistory(
    threadId: string,
    request: { userId: string; info: ThreadInfo; history: HistoryItem[] },
    signal?: AbortSignal,
  ): Promise<void>;
}

/**
 * How old an open turn whose invocation Restate does not list must be to count as orphaned (younger,
 * its invocation may not be listed yet).
 */
const ORPHAN_TURN_AGE_MS = 30_000;

/** What the Restate executor needs. */
export interface RestateTurnExecutorDeps {
  store: KilnStore;
  kiln: KilnFactory;
  client: DurableTurnClient;
  dataDir: string;
  workspaceRoots: readonly string[];
  now: () => number;
}

/** The API node's turn executor: turns run on workers (see the file comment). */
export class RestateTurnExecutor implements TurnExecutor {
  /** The invocation of each thread's newest turn this node submitted: thread id → turn and invocation. */
  private readonly invocations = new Map<string, { turnId: string; invocationId: string }>();
  private readonly extrasProviders: ThreadExtrasProvider[] = [];
  private accepting = true;

  constructor(private readonly d: RestateTurnExecutorDeps) {}

  /** Where each turn's extras (a task attempt's network, instructions, tools) come from. */
  addExtrasProvider(provider: ThreadExtrasProvider): void {
    this.extrasProviders.push(provider);
  }

  /** Turns run on workers, never here. */
  get runningCount(): number {
    return 0;
  }

  async createThread(
    user: { id: string; role: "admin" | "user" },
    request: Omit<CreateThreadRequest, "environmentId">,
    extras: ThreadExtras = {},
  ): Promise<StoredThread> {
    this.checkAccepting();
    workerTools(extras);
    const cwd =
      extras.workspace ??
      (request.cwd === undefined
        ? await createWorkspace(this.d.dataDir)
        : await checkWorkspaceCwd(request.cwd, user, this.d.workspaceRoots));
    const kiln = await this.d.kiln({ userId: user.id });
    const now = this.d.now();
    const info = kiln.newThreadInfo({
      cwd,
      createdAt: now,
      ...(request.model === undefined ? {} : { model: request.model }),
      ...(request.sandbox === undefined ? {} : { sandbox: request.sandbox }),
      ...(request.approvalPolicy === undefined ? {} : { approvalPolicy: request.approvalPolicy }),
      ...(request.mode === undefined ? {} : { mode: request.mode }),
    });
    return this.d.store.threads.create({
      userId: user.id,
      info,
      title: request.title ?? "",
      status: "idle",
      now,
    });
  }

  /**
   * A new thread with the history of the scope's thread up to its turn `atTurn` (default: all of
   * it), planned from the thread's stored rollout lines as a single node plans it from its file; the
   * new thread's object gets its settings and history before its first turn.
   */
  async fork(scope: ThreadScope, atTurn: number | undefined): Promise<StoredThread> {
    this.checkAccepting();
    const source = await this.owned(scope);
    if (atTurn !== undefined && (!Number.isInteger(atTurn) || atTurn < 1)) {
      throw new KilnError("invalid_request", `atTurn must be a whole number from 1, got ${atTurn}`, {
        details: { field: "atTurn" },
      });
    }
    if (atTurn === undefined && (await this.unfinishedTurn(scope)) !== undefined) {
      throw new KilnError(
        "conflict",
        "the thread is running a turn: wait for it to end, or fork at an earlier turn (atTurn)",
      );
    }
    const lines = await this.d.store.rollout.read(scope.threadId);
    const state = withRolloutFile(source, lines, (path) =>
      readRollout(path, atTurn === undefined ? {} : { upToTurn: atTurn }),
    );
    if (atTurn !== undefined && state.turnCount < atTurn) {
      throw new KilnError(
        "invalid_request",
        `atTurn ${atTurn} is past the thread's last turn (${state.turnCount})`,
        { details: { field: "atTurn" } },
      );
    }
    const now = this.d.now();
    const info: ThreadInfo = { ...source.info, id: newId("thr"), createdAt: now, parentThreadId: source.id };
    const thread = await this.d.store.threads.create({
      userId: scope.userId,
      info,
      title: source.title === "" ? "" : `${source.title} (fork)`,
      status: "idle",
      now,
    });
    try {
      await this.d.client.seedHistory(info.id, { userId: scope.userId, info, history: state.history });
    } catch (error) {
      // A fork without its history would look like an empty thread: hide it, and say what failed.
      await this.d.store.threads.setArchived({ userId: scope.userId, threadId: info.id }, true, this.d.now());
      throw error;
    }
    return thread;
  }

  /**
   * Drops the last `turns` turns from the thread's model history (files are not reverted), planned
   * from its stored rollout lines and applied by its object (which refuses if a turn ran meanwhile).
   */
  async rollback(scope: ThreadScope, turns: number): Promise<void> {
    this.checkAccepting();
    const thread = await this.owned(scope);
    if ((await this.unfinishedTurn(scope)) !== undefined)
      throw new KilnError("conflict", `thread ${scope.threadId} is running a turn: roll back after it ends`);
    const lines = await this.d.store.rollout.read(scope.threadId);
    const plan = withRolloutFile(thread, lines, (path) => planRollback(path, turns));
    await this.d.client.replaceHistory(scope.threadId, {
      userId: scope.userId,
      history: plan.history,
      lineTurnId: plan.lineTurnId,
      expectLineSeq: lines.at(-1)?.seq ?? 0,
      warning: rollbackWarning(plan.droppedTurnIds),
    });
  }

  async startTurn(scope: ThreadScope, request: StartTurnRequest): Promise<string> {
    this.checkAccepting();
    const thread = await this.owned(scope);
    checkInputPaths(request.input, thread.info.cwd);
    const running = await this.unfinishedTurn(scope);
    if (running !== undefined) {
      throw new KilnError(
        "conflict",
        `thread ${scope.threadId} is running turn ${running}: interrupt it (POST …/interrupt) or wait for it to end`,
      );
    }
    const { store, now } = this.d;
    const turnId = newId("turn");
    await store.turns.create({ id: turnId, threadId: scope.threadId, status: "running", now: now() });
    await store.threads.setStatus(scope, "running", now());
    if (thread.title === "") await store.threads.rename(scope, titleFrom(request.input), now());
    try {
      const invocationId = await this.d.client.submit(scope.threadId, {
        userId: scope.userId,
        turnId,
        input: request.input,
        ...(request.outputSchema === undefined ? {} : { outputSchema: request.outputSchema }),
        ...(await this.turnExtras(thread)),
        thread: { cwd: thread.info.cwd },
      });
      this.invocations.set(scope.threadId, { turnId, invocationId });
    } catch (error) {
      // Not accepted: the turn never ran, and must not block the thread's next one.
      await store.turns.markFinished(turnId, {
        status: "failed",
        now: now(),
        error: {
          code: "internal",
          message: error instanceof Error ? error.message : String(error),
          retryable: true,
        },
      });
      await store.threads.setStatus(scope, "idle", now());
      throw error;
    }
    return turnId;
  }

  /**
   * Adds input to the thread's running turn: stored (store.threadInputs) for the worker, which gives
   * it to the model at the turn's next model call. Input that reaches a turn as it ends is refused
   * (`conflict`) or, when the worker saw it first, reported in the thread's stream as not used.
   */
  async steer(scope: ThreadScope, input: TurnInput): Promise<string> {
    const thread = await this.owned(scope);
    checkInputPaths(input, thread.info.cwd);
    const noTurn = () =>
      new KilnError(
        "conflict",
        `thread ${scope.threadId} has no running turn to steer: start one (POST …/turns)`,
      );
    const turnId = await this.unfinishedTurn(scope);
    if (turnId === undefined) throw noTurn();
    const parts = typeof input === "string" ? [{ type: "text" as const, text: input }] : input;
    const seq = await this.d.store.threadInputs.add({ ...scope, turnId, input: parts, now: this.d.now() });
    if ((await this.unfinishedTurn(scope)) !== turnId) {
      // The turn ended meanwhile: take this input back unless the worker already took (or reported) it.
      if (await this.d.store.threadInputs.withdraw(seq)) throw noTurn();
    }
    return turnId;
  }

  async interrupt(scope: ThreadScope): Promise<string> {
    await this.owned(scope);
    const turnId = await this.unfinishedTurn(scope);
    if (turnId === undefined) {
      throw new KilnError(
        "conflict",
        `thread ${scope.threadId} has no running turn: start one (POST …/turns)`,
      );
    }
    const where = await this.d.client.turnInvocation(scope.threadId, turnId);
    const turn = ((await this.d.store.turns.listByThread(scope)) ?? []).find((t) => t.id === turnId);
    const age = this.d.now() - (turn?.startedAt ?? this.d.now());
    // An invocation that ended without finishing its turn (killed through Restate's admin API) left
    // the turn open: it is closed here, or the thread would refuse every new turn.
    if (where === "completed" || (where === "unknown" && age > ORPHAN_TURN_AGE_MS)) {
      await this.closeOrphanTurn(scope, turnId);
      return turnId;
    }
    const known = this.invocations.get(scope.threadId);
    await this.d.client.interrupt(scope.threadId, known?.turnId === turnId ? known.invocationId : undefined);
    return turnId;
  }

  /** Ends a turn whose invocation is gone: `turn/completed` (interrupted), its row, the thread idle. */
  private async closeOrphanTurn(scope: ThreadScope, turnId: string): Promise<void> {
    const { store, now } = this.d;
    const error = {
      code: "turn_interrupted" as const,
      message: "the turn's invocation ended without finishing the turn (cancelled or killed outside Kiln)",
      retryable: false,
    };
    await store.events.append(scope.threadId, [
      {
        turnId,
        at: now(),
        event: {
          type: "turn/completed",
          turnId,
          status: "interrupted",
          usage: emptyUsage(),
          error,
        },
      },
    ]);
    await store.turns.markFinished(turnId, { status: "interrupted", now: now(), error });
    await store.threads.setStatus(scope, "idle", now());
  }

  /**
   * The user's pending approvals, oldest first: `approval` items started and not completed in the
   * events of their threads' unfinished turns (workers write them to the shared store).
   */
  async listApprovals(userId: string): Promise<PendingApprovalResource[]> {
    const turns = (await this.d.store.turns.listUnfinished()).filter((t) => t.userId === userId);
    const pending: PendingApprovalResource[] = [];
    for (const turn of turns) {
      const scope = { userId, threadId: turn.threadId };
      const open = new Map<string, PendingApprovalResource>();
      let after = 0;
      for (;;) {
        const page = (await this.d.store.events.listAfter(scope, after, 1000)) ?? [];
        for (const { event, at } of page) {
          if (event.type !== "item/started" && event.type !== "item/completed") continue;
          if (event.item.type !== "approval") continue;
          if (event.type === "item/completed") open.delete(event.item.id);
          else
            open.set(event.item.id, {
              id: event.item.id,
              threadId: turn.threadId,
              turnId: turn.id,
              askedAt: at,
              approval: event.item,
            });
        }
        const last = page.at(-1);
        if (last === undefined || page.length < 1000) break;
        after = last.seq;
      }
      pending.push(...open.values());
    }
    return pending.sort((a, b) => a.askedAt - b.askedAt);
  }

  /** Answers one of the user's pending approvals; another user's (or an unknown) one is `not_found`. */
  async respondApproval(
    userId: string,
    id: string,
    decision: ApprovalDecisionInput,
  ): Promise<PendingApprovalResource> {
    const pending = (await this.listApprovals(userId)).find((a) => a.id === id);
    if (pending === undefined) {
      throw new KilnError(
        "not_found",
        `no pending approval ${id}: it was answered already, or its turn ended`,
        {
          details: { field: "id" },
        },
      );
    }
    await this.d.client.decideApproval(id, decision);
    return pending;
  }

  /** Nothing to do: the engine continues unfinished turns by itself. */
  async resumeAll(): Promise<void> {}

  /** Stops accepting turns; the running ones go on on the workers. */
  async close(): Promise<void> {
    this.accepting = false;
  }

  private checkAccepting(): void {
    if (!this.accepting) {
      throw new KilnError("conflict", "the server is shutting down: try again in a moment", {
        retryable: true,
      });
    }
  }

  /** The extras a worker gives the thread for a turn (the providers' answer for it). */
  private async turnExtras(thread: StoredThread): Promise<{ extras?: DurableTurnExtras }> {
    for (const provider of this.extrasProviders) {
      const extras = await provider(thread);
      if (extras === undefined) continue;
      const tools = workerTools(extras);
      return {
        extras: {
          ...(extras.networkAccess === undefined ? {} : { networkAccess: extras.networkAccess }),
          ...(extras.developerInstructions === undefined
            ? {}
            : { developerInstructions: extras.developerInstructions }),
          ...(tools.length === 0 ? {} : { tools }),
        },
      };
    }
    return {};
  }

  private async owned(scope: ThreadScope): Promise<StoredThread> {
    const thread = await this.d.store.threads.get(scope);
    if (thread === undefined) {
      throw new KilnError("not_found", `no thread ${scope.threadId}`, { details: { field: "id" } });
    }
    return thread;
  }

  /** The id of the thread's unfinished turn, if any (the store is shared by every API node). */
  private async unfinishedTurn(scope: ThreadScope): Promise<string | undefined> {
    const turns = (await this.d.store.turns.listByThread(scope)) ?? [];
    return turns.findLast((t) => t.finishedAt === undefined)?.id;
  }
}

/**
 * The names of `extras.tools`, each one a tool workers provide themselves: a tool whose code runs in
 * the API node's process cannot travel to a worker (`invalid_request`).
 */
function workerTools(extras: ThreadExtras): "make_pr"[] {
  const names = (extras.tools ?? []).map((tool) => tool.name);
  const foreign = names.filter((name) => name !== MAKE_PR_TOOL);
  if (foreign.length > 0) {
    throw new KilnError(
      "invalid_request",
      `threads with server-side tools (${foreign.join(", ")}) cannot run with --engine restate: run them on a single node`,
    );
  }
  return names as "make_pr"[];
}
