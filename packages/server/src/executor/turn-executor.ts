// Runs turns in this process (single node). Each server thread is a Kiln thread whose JSONL rollout
// (under the server's KILN_HOME) is the journal. Sequence of a turn:
//   1. `startTurn` checks the caller owns the thread, loads it (`Kiln.resumeThread`, once per process)
//      and calls `runStreamed`; `drive` consumes the stream in the background.
//   2. Every envelope goes through the thread's EventPipeline: store.events (same seq), turn/thread
//      status, usage, then the live hub. The POST returns once `turn/started` is stored.
//   3. An approval request waits in PendingApprovals for `POST /approvals/{id}` (or the turn's abort).
// At start-up `resumeAll` loads every thread with an unfinished turn (store.turns) and continues it
// with `resumeUnfinished()` (completed tool calls are not run again, a call that was running is
// reported to the model as interrupted, a pending approval is asked again with the same id).
// `close` (SIGTERM) stops accepting turns, lets each running turn end its current step (a model call
// or a tool call, at most `shutdownGraceMs`) and then interrupts it; a turn waiting for an approval
// is left unfinished, so that the next start asks the same approval again.
import type { AgentThread, DynamicToolDefinition, PendingApproval } from "@kiln/core";
import type { ApprovalDecisionInput, CreateThreadRequest, StartTurnRequest, TurnInput } from "@kiln/protocol";
import { type ErrorInfo, KilnError, toErrorInfo } from "@kiln/protocol";
import type { StoredThread, ThreadScope } from "@kiln/store";
import { EventPipeline, type PipelineDeps } from "./event-pipeline.ts";
import type { KilnFactory } from "./kiln-factory.ts";
import type { PendingApprovals } from "./pending-approvals.ts";
import { driveTurn, type ThreadHandle } from "./thread-handle.ts";
import { checkInputPaths, checkWorkspaceCwd, createWorkspace, titleFrom } from "./workspace.ts";

/** What the executor needs. */
export interface TurnExecutorDeps extends PipelineDeps {
  kiln: KilnFactory;
  dataDir: string;
  /** Host directories a thread's `cwd` may lie under. */
  workspaceRoots: readonly string[];
  approvals: PendingApprovals;
  /** How long `close` lets a running turn finish its current step before interrupting it. */
  shutdownGraceMs: number;
}

type Approve = (request: PendingApproval, signal: AbortSignal) => Promise<ApprovalDecisionInput>;

/** What a server-made thread gets beyond its request: a prepared workspace, its network, its tools. */
export interface ThreadExtras {
  /** A workspace the server prepared (not checked against the workspace roots). */
  workspace?: string;
  networkAccess?: boolean;
  tools?: DynamicToolDefinition[];
  /** Added to the thread's developer instructions. */
  developerInstructions?: string;
}

/** Gives a thread that is loaded again (resume, next turn) the same network and tools it was made with. */
export type ThreadExtrasProvider = (thread: StoredThread) => Promise<ThreadExtras | undefined>;

/**
 * The turn-execution port: what the routes and the task runner ask of whatever runs turns. The
 * single node runs them in this process (InProcessTurnExecutor); a Restate API node submits them to
 * workers (RestateTurnExecutor, restate-executor.ts).
 */
export interface TurnExecutor {
  /** Registers where loaded threads get their extras from (e.g. the task service's attempt threads). */
  addExtrasProvider(provider: ThreadExtrasProvider): void;
  /** How many turns this process runs now. */
  readonly runningCount: number;
  /** Creates a thread (and its workspace when no `cwd` is given). */
  createThread(
    user: { id: string; role: "admin" | "user" },
    request: Omit<CreateThreadRequest, "environmentId">,
    extras?: ThreadExtras,
  ): Promise<StoredThread>;
  /** Forks a thread the user owns, at `atTurn` (default: all of it). */
  fork(scope: ThreadScope, atTurn: number | undefined): Promise<StoredThread>;
  /** Drops the last `turns` turns from the thread's model history. */
  rollback(scope: ThreadScope, turns: number): Promise<void>;
  /** Starts a turn; resolves with its id once it is accepted. A running turn → `conflict`. */
  startTurn(scope: ThreadScope, request: StartTurnRequest): Promise<string>;
  /** Adds input to the running turn. */
  steer(scope: ThreadScope, input: TurnInput): Promise<string>;
  /** Interrupts the running turn (it ends `interrupted`). */
  interrupt(scope: ThreadScope): Promise<string>;
  /** Continues every turn a previous process left unfinished (start-up). */
  resumeAll(): Promise<void>;
  /** Stops accepting turns and winds down the running ones. */
  close(): Promise<void>;
}

/** The in-process turn executor (single node). */
export class InProcessTurnExecutor implements TurnExecutor {
  private readonly handles = new Map<string, Promise<ThreadHandle>>();
  private readonly runningThreads = new Set<string>();
  private accepting = true;
  private readonly extrasProviders: ThreadExtrasProvider[] = [];

  constructor(private readonly d: TurnExecutorDeps) {}

  /** Registers where loaded threads get their extras from (e.g. the task service's attempt threads). */
  addExtrasProvider(provider: ThreadExtrasProvider): void {
    this.extrasProviders.push(provider);
  }

  /** How many turns run now. */
  get runningCount(): number {
    return this.runningThreads.size;
  }

  /** Creates a thread (and its workspace when no `cwd` is given). */
  async createThread(
    user: { id: string; role: "admin" | "user" },
    request: Omit<CreateThreadRequest, "environmentId">,
    extras: ThreadExtras = {},
  ): Promise<StoredThread> {
    this.checkAccepting();
    const cwd =
      extras.workspace ??
      (request.cwd === undefined
        ? await createWorkspace(this.d.dataDir)
        : await checkWorkspaceCwd(request.cwd, user, this.d.workspaceRoots));
    const kiln = await this.d.kiln({ userId: user.id });
    const { approve, bind } = this.approver();
    const agent = kiln.startThread({
      cwd,
      ...(extras.networkAccess === undefined ? {} : { networkAccess: extras.networkAccess }),
      ...(extras.tools === undefined ? {} : { tools: extras.tools }),
      ...(extras.developerInstructions === undefined
        ? {}
        : { developerInstructions: extras.developerInstructions }),
      ...(request.model === undefined ? {} : { model: request.model }),
      ...(request.sandbox === undefined ? {} : { sandbox: request.sandbox }),
      ...(request.approvalPolicy === undefined ? {} : { approvalPolicy: request.approvalPolicy }),
      ...(request.mode === undefined ? {} : { mode: request.mode }),
      onApproval: approve,
    });
    return this.register(user.id, agent, request.title ?? "", bind);
  }

  /** Forks a thread the user owns, at `atTurn` (default: all of it). */
  async fork(scope: ThreadScope, atTurn: number | undefined): Promise<StoredThread> {
    this.checkAccepting();
    const source = await this.owned(scope);
    if (atTurn === undefined && this.runningThreads.has(scope.threadId)) {
      throw new KilnError(
        "conflict",
        "the thread is running a turn: wait for it to end, or fork at an earlier turn (atTurn)",
      );
    }
    const kiln = await this.d.kiln({ userId: scope.userId });
    const { approve, bind } = this.approver();
    const agent = kiln.forkThread(scope.threadId, {
      onApproval: approve,
      ...(atTurn === undefined ? {} : { atTurn }),
    });
    return this.register(scope.userId, agent, source.title === "" ? "" : `${source.title} (fork)`, bind);
  }

  /**
   * Drops the last `turns` turns from the thread's model history (files on disk are not reverted);
   * its `warning` event is stored and published before this resolves. A running turn → `conflict`,
   * a count out of range → `invalid_request`.
   */
  async rollback(scope: ThreadScope, turns: number): Promise<void> {
    this.checkAccepting();
    const handle = await this.load(await this.owned(scope));
    if (handle.running?.ending) await handle.running.done;
    if (handle.running !== undefined) {
      throw new KilnError(
        "conflict",
        `thread ${scope.threadId} is running turn ${handle.running.turnId ?? ""}: roll back after it ends, or interrupt it (POST …/interrupt) first`,
      );
    }
    const stored: Promise<void>[] = [];
    for await (const envelope of handle.agent.rollback(turns)) stored.push(handle.pipeline.push(envelope));
    await Promise.all(stored);
  }

  /** Starts a turn; resolves with its id once `turn/started` is stored. A running turn → `conflict`. */
  async startTurn(scope: ThreadScope, request: StartTurnRequest): Promise<string> {
    this.checkAccepting();
    const thread = await this.owned(scope);
    checkInputPaths(request.input, thread.info.cwd);
    const handle = await this.load(thread);
    if (handle.running?.ending) await handle.running.done;
    if (handle.running !== undefined) {
      throw new KilnError(
        "conflict",
        `thread ${scope.threadId} is running turn ${handle.running.turnId ?? ""}: steer it (POST …/steer) or interrupt it (POST …/interrupt) first`,
      );
    }
    const stream = handle.agent.runStreamed(
      request.input,
      request.outputSchema === undefined ? {} : { outputSchema: request.outputSchema },
    );
    const turnId = await driveTurn(handle, this.runningThreads, this.d.logger, stream);
    if (thread.title === "") await this.d.store.threads.rename(scope, titleFrom(request.input), this.d.now());
    return turnId;
  }

  /** Adds input to the running turn. */
  async steer(scope: ThreadScope, input: TurnInput): Promise<string> {
    const thread = await this.owned(scope);
    checkInputPaths(input, thread.info.cwd);
    const { handle, turnId } = await this.runningTurn(scope);
    handle.agent.steer(input);
    return turnId;
  }

  /** Interrupts the running turn (it ends `interrupted`). */
  async interrupt(scope: ThreadScope): Promise<string> {
    await this.owned(scope);
    const { handle, turnId } = await this.runningTurn(scope);
    handle.agent.interrupt();
    return turnId;
  }

  /** Continues every turn a previous process left unfinished (start-up). */
  async resumeAll(): Promise<void> {
    const { store, logger, now } = this.d;
    const unfinished = await store.turns.listUnfinished();
    const owners = new Map(unfinished.map((t) => [t.threadId, t.userId]));
    for (const [threadId, userId] of owners) {
      const scope = { userId, threadId };
      let resumed: string | undefined;
      let error: ErrorInfo = {
        code: "turn_interrupted",
        message: "the server stopped before this turn began: start it again",
        retryable: false,
      };
      try {
        const handle = await this.load(await this.owned(scope));
        if (handle.agent.hasUnfinishedTurn && handle.running === undefined) {
          resumed = await driveTurn(
            handle,
            this.runningThreads,
            this.d.logger,
            handle.agent.resumeUnfinished(),
          );
          logger.info({ threadId, turnId: resumed }, "resumed an unfinished turn");
        }
      } catch (cause) {
        logger.error({ err: cause, threadId }, "could not resume the thread's unfinished turn");
        error = { ...toErrorInfo(cause), code: "turn_interrupted", retryable: false };
      }
      const turns = (await store.turns.listByThread(scope)) ?? [];
      for (const turn of turns) {
        if (turn.finishedAt !== undefined || turn.id === resumed) continue;
        await store.turns.markFinished(turn.id, { status: "interrupted", now: now(), error });
      }
      if (resumed === undefined) await store.threads.setStatus(scope, "idle", now());
    }
  }

  /** Stops accepting turns and lets running ones end their step (see the file comment). */
  async close(): Promise<void> {
    this.accepting = false;
    const settled = await Promise.allSettled(this.handles.values());
    const handles = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
    const ending: Promise<void>[] = [];
    for (const handle of handles) {
      const running = handle.running;
      if (running === undefined || this.d.approvals.isWaiting(handle.id)) continue;
      running.stopAtStep = true;
      const timer = setTimeout(() => handle.agent.interrupt(), this.d.shutdownGraceMs);
      ending.push(running.done.finally(() => clearTimeout(timer)));
    }
    // A turn that ignores its interrupt must not hold the process: stop waiting a little after the grace.
    let giveUp: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(ending),
      new Promise<void>((resolve) => {
        giveUp = setTimeout(resolve, this.d.shutdownGraceMs + 5_000);
      }),
    ]);
    clearTimeout(giveUp);
    this.d.approvals.abandonAll();
    for (const handle of handles) {
      await handle.pipeline.flush();
      handle.agent.close();
    }
    this.handles.clear();
  }

  private checkAccepting(): void {
    if (!this.accepting) {
      throw new KilnError("conflict", "the server is shutting down: try again in a moment", {
        retryable: true,
      });
    }
  }

  /** The user's thread from the store, or `not_found`. */
  private async owned(scope: ThreadScope): Promise<StoredThread> {
    const thread = await this.d.store.threads.get(scope);
    if (thread === undefined) {
      throw new KilnError("not_found", `no thread ${scope.threadId}`, { details: { field: "id" } });
    }
    return thread;
  }

  private async runningTurn(scope: ThreadScope): Promise<{ handle: ThreadHandle; turnId: string }> {
    const handle = this.handles.has(scope.threadId) ? await this.handles.get(scope.threadId) : undefined;
    const turnId = handle?.running?.turnId;
    if (handle === undefined || turnId === undefined) {
      throw new KilnError(
        "conflict",
        `thread ${scope.threadId} has no running turn: start one (POST …/turns)`,
      );
    }
    return { handle, turnId };
  }

  /** An approval callback that is bound to its thread once the thread exists. */
  private approver(): { approve: Approve; bind: (handle: ThreadHandle) => void } {
    let bound: ThreadHandle | undefined;
    return {
      approve: (request, signal) => {
        if (bound === undefined) return Promise.resolve("denied");
        return this.askApproval(bound, request, signal);
      },
      bind: (handle) => {
        bound = handle;
      },
    };
  }

  private async register(
    userId: string,
    agent: AgentThread,
    title: string,
    bind: (handle: ThreadHandle) => void,
  ): Promise<StoredThread> {
    try {
      const stored = await this.d.store.threads.create({
        userId,
        info: agent.info,
        title,
        status: "idle",
        now: this.d.now(),
      });
      const handle = await this.open(userId, agent);
      bind(handle);
      this.handles.set(agent.id, Promise.resolve(handle));
      return stored;
    } catch (error) {
      agent.close();
      throw error;
    }
  }

  /** The thread's handle, loading the Kiln thread from its rollout on first use. */
  private load(thread: StoredThread): Promise<ThreadHandle> {
    const existing = this.handles.get(thread.id);
    if (existing !== undefined) return existing;
    const loading = (async () => {
      const kiln = await this.d.kiln({ userId: thread.userId });
      const { approve, bind } = this.approver();
      const extras = await this.extrasOf(thread);
      const agent = kiln.resumeThread(thread.id, {
        onApproval: approve,
        ...(extras.networkAccess === undefined ? {} : { networkAccess: extras.networkAccess }),
        ...(extras.tools === undefined ? {} : { tools: extras.tools }),
        ...(extras.developerInstructions === undefined
          ? {}
          : { developerInstructions: extras.developerInstructions }),
      });
      const handle = await this.open(thread.userId, agent).catch((error: unknown) => {
        agent.close();
        throw error;
      });
      bind(handle);
      return handle;
    })();
    this.handles.set(thread.id, loading);
    loading.catch(() => this.handles.delete(thread.id));
    return loading;
  }

  private async extrasOf(thread: StoredThread): Promise<ThreadExtras> {
    for (const provider of this.extrasProviders) {
      const extras = await provider(thread);
      if (extras !== undefined) return extras;
    }
    return {};
  }

  private async open(userId: string, agent: AgentThread): Promise<ThreadHandle> {
    const pipeline = await EventPipeline.open(this.d, {
      id: agent.id,
      userId,
      rolloutPath: agent.rolloutPath,
      model: () => agent.info.model,
    });
    return { id: agent.id, userId, agent, pipeline, running: undefined };
  }

  private async askApproval(
    handle: ThreadHandle,
    request: PendingApproval,
    signal: AbortSignal,
  ): Promise<ApprovalDecisionInput> {
    const { store, now, approvals } = this.d;
    const scope = { userId: handle.userId, threadId: handle.id };
    const turnId = handle.running?.turnId;
    const setStatus = (status: "waitingForApproval" | "running") =>
      handle.pipeline.enqueue(async () => {
        if (turnId !== undefined) await store.turns.setStatus(turnId, status, now());
        await store.threads.setStatus(scope, status, now());
      });
    void setStatus("waitingForApproval").catch(() => undefined);
    const decision = await approvals.wait(
      { request, userId: handle.userId, threadId: handle.id, turnId, askedAt: now() },
      signal,
    );
    void setStatus("running").catch(() => undefined);
    return decision;
  }
}
