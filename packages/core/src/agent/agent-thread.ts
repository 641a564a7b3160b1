// A thread: the model's history, its rollout, and the turns run on it. A turn's events are numbered
// (gap-free `seq`), journaled to the rollout, and streamed to the caller; `run()` folds `runStreamed()`.
import {
  type ApprovalPolicy,
  type EventEnvelope,
  type HistoryItem,
  type HistoryToolCall,
  type InputPart,
  KilnError,
  newId,
  type PlanStep,
  type SandboxPolicy,
  type ThreadEvent,
  type ThreadInfo,
  type ThreadItem,
  type TurnContext,
  type TurnStatus,
  toErrorInfo,
  type Usage,
} from "@kiln/protocol";
import type { SandboxProvider } from "@kiln/sandbox";
import type { ModelClient } from "../model/model-client.ts";
import type { RetryOptions } from "../model/retry.ts";
import type { RolloutWriter } from "../rollout/rollout-writer.ts";
import { createExecSessions } from "../tools/exec-command/exec-sessions.ts";
import { outputItem, type ToolSet } from "../tools/run-tool-calls.ts";
import type { ApprovalDecision, ApprovalRequest, ToolContext } from "../tools/tool.ts";
import { AsyncQueue } from "../util/async-queue.ts";
import { createOutputSchemaCheck } from "./output-schema.ts";
import { runTurnLoop, type TurnOutcome } from "./run-turn.ts";
import { normalizeInput, toModelContent } from "./user-input.ts";

/** Everything a thread is made of (assembled by `Kiln`). */
export interface AgentThreadOptions {
  info: ThreadInfo;
  rollout: RolloutWriter;
  history: HistoryItem[];
  lastEventSeq: number;
  model: ModelClient;
  modelSettings: {
    model: string;
    reasoningEffort?: string | undefined;
    reasoningSummary?: string | undefined;
  };
  retry: RetryOptions;
  instructions: string;
  /** Developer + environment messages for a thread's first turn. */
  initialContext: () => HistoryItem[];
  sandbox: SandboxProvider;
  sandboxPolicy: SandboxPolicy;
  approvalPolicy: ApprovalPolicy;
  tools: ToolSet;
  outputTokenLimit: number;
  /** Decides approvals; without it, the policy's non-interactive rule applies (deny, with a warning). */
  onApproval?: ((request: ApprovalRequest) => Promise<ApprovalDecision>) | undefined;
  /** The last turn, cut off by a crash. */
  unfinishedTurn?: { context: TurnContext; danglingCalls: HistoryToolCall[] } | undefined;
}

/** The result of `run()`. */
export interface TurnResult {
  turnId: string;
  status: TurnStatus;
  items: ThreadItem[];
  finalResponse: string;
  usage: Usage;
  error?: TurnOutcome["error"];
}

/** Options of one turn. */
export interface RunOptions {
  signal?: AbortSignal;
  /** JSON Schema the final message must match (the model is asked to fix it, then the turn fails). */
  outputSchema?: Record<string, unknown>;
}

/** The output given for a tool call that was running when the process died. */
export const INTERRUPTED_CALL_OUTPUT =
  "Error: this tool call was interrupted: the Kiln process stopped while it was running (killed or crashed), so it may have partly run. Check its effects before running it again.";

/** A conversation with the agent. */
export class AgentThread {
  private readonly o: AgentThreadOptions;
  private seq: number;
  private running: AbortController | undefined;
  private unfinished: AgentThreadOptions["unfinishedTurn"];
  private readonly sessions = createExecSessions();

  constructor(options: AgentThreadOptions) {
    this.o = options;
    this.seq = options.lastEventSeq;
    this.unfinished = options.unfinishedTurn;
  }

  get id(): string {
    return this.o.info.id;
  }

  get info(): ThreadInfo {
    return this.o.info;
  }

  get rolloutPath(): string {
    return this.o.rollout.path;
  }

  /** Whether the last turn was cut off by a crash and can be continued with `resumeUnfinished()`. */
  get hasUnfinishedTurn(): boolean {
    return this.unfinished !== undefined;
  }

  /** Runs a turn and collects its result. */
  async run(input: string | InputPart[], options: RunOptions = {}): Promise<TurnResult> {
    return foldTurn(this.runStreamed(input, options));
  }

  /** Runs a turn, streaming its events. A cut-off earlier turn is closed first (its calls marked interrupted). */
  runStreamed(input: string | InputPart[], options: RunOptions = {}): AsyncIterable<EventEnvelope> {
    const parts = normalizeInput(input);
    return this.stream(options, (emit) => {
      this.closeUnfinished(emit);
      const turnId = newId("turn");
      return this.turn(turnId, emit, options, () => {
        const content = toModelContent(parts, this.o.info.cwd);
        if (this.o.history.length === 0)
          for (const item of this.o.initialContext()) this.record(turnId, item);
        this.record(turnId, { type: "message", role: "user", content });
        const user: ThreadItem = { id: newId("item"), type: "userMessage", content: parts };
        emit({ type: "item/started", item: user });
        emit({ type: "item/completed", item: user });
      });
    });
  }

  /** Continues the turn a crash cut off, from its last completed step. */
  resumeUnfinished(options: RunOptions = {}): AsyncIterable<EventEnvelope> {
    const unfinished = this.unfinished;
    if (unfinished === undefined) {
      throw new KilnError("conflict", `thread ${this.id} has no unfinished turn to continue: give a prompt`);
    }
    this.unfinished = undefined;
    return this.stream(options, (emit) =>
      this.turn(unfinished.context.turnId, emit, options, () => {
        for (const call of unfinished.danglingCalls) {
          this.record(unfinished.context.turnId, outputItem(call, INTERRUPTED_CALL_OUTPUT));
        }
      }),
    );
  }

  /** Stops the running turn (the current command is killed; the turn ends `interrupted`). */
  interrupt(): void {
    this.running?.abort();
  }

  /** Kills background commands and closes the rollout. */
  close(): void {
    this.sessions.closeAll();
    this.o.rollout.close();
  }

  private closeUnfinished(emit: (e: ThreadEvent, turnId?: string) => void): void {
    const unfinished = this.unfinished;
    if (unfinished === undefined) return;
    this.unfinished = undefined;
    const turnId = unfinished.context.turnId;
    for (const call of unfinished.danglingCalls)
      this.record(turnId, outputItem(call, INTERRUPTED_CALL_OUTPUT));
    emit(
      {
        type: "turn/completed",
        turnId,
        status: "interrupted",
        usage: {
          inputTokens: 0,
          cachedInputTokens: 0,
          outputTokens: 0,
          reasoningOutputTokens: 0,
          totalTokens: 0,
        },
        error: {
          code: "turn_interrupted",
          message: "the Kiln process stopped during this turn",
          retryable: false,
        },
      },
      turnId,
    );
  }

  private stream(
    options: RunOptions,
    body: (emit: (event: ThreadEvent, turnId?: string) => void) => Promise<void>,
  ): AsyncIterable<EventEnvelope> {
    if (this.running !== undefined)
      throw new KilnError("conflict", `thread ${this.id} is already running a turn`);
    const controller = new AbortController();
    this.running = controller;
    const onAbort = () => controller.abort();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    const queue = new AsyncQueue<EventEnvelope>();
    const emit = (event: ThreadEvent, turnId?: string) => {
      const envelope: EventEnvelope = { seq: ++this.seq, threadId: this.id, at: Date.now(), event };
      if (turnId !== undefined) envelope.turnId = turnId;
      this.o.rollout.append("event", envelope);
      queue.push(envelope);
    };
    if (this.seq === 0) emit({ type: "thread/started", thread: this.o.info });
    body(emit)
      .then(
        () => queue.end(),
        (error: unknown) => queue.fail(error),
      )
      .finally(() => {
        options.signal?.removeEventListener("abort", onAbort);
        this.running = undefined;
        this.o.rollout.sync();
      });
    return queue;
  }

  private async turn(
    turnId: string,
    emitAny: (event: ThreadEvent, turnId?: string) => void,
    options: RunOptions,
    begin: () => void,
  ): Promise<void> {
    const emit = (event: ThreadEvent) => emitAny(event, turnId);
    const signal = this.running?.signal ?? options.signal ?? new AbortController().signal;
    const info = this.o.info;
    this.o.rollout.append("turn_context", {
      turnId,
      model: this.o.modelSettings.model,
      modelProvider: info.modelProvider,
      sandbox: this.o.sandboxPolicy.mode,
      approvalPolicy: this.o.approvalPolicy,
      mode: info.mode,
      cwd: info.cwd,
    });
    emit({ type: "turn/started", turnId });
    const plan: { itemId: string | undefined; steps: PlanStep[] } = { itemId: undefined, steps: [] };
    let outcome: TurnOutcome;
    try {
      begin();
      outcome = await runTurnLoop(
        {
          threadId: this.id,
          turnId,
          model: this.o.model,
          request: {
            model: this.o.modelSettings.model,
            instructions: this.o.instructions,
            parallelToolCalls: true,
            reasoningEffort: this.o.modelSettings.reasoningEffort,
            reasoningSummary: this.o.modelSettings.reasoningSummary,
            promptCacheKey: this.id,
            outputSchema: options.outputSchema,
          },
          checkFinal:
            options.outputSchema === undefined ? undefined : createOutputSchemaCheck(options.outputSchema),
          tools: this.o.tools,
          retry: this.o.retry,
          history: this.o.history,
          record: (item) => this.record(turnId, item),
          emit,
          newItemId: () => newId("item"),
          toolContext: (call, sig) => this.toolContext(turnId, call, sig, emit, plan),
        },
        signal,
      );
    } catch (error) {
      outcome = {
        status: "failed",
        usage: {
          inputTokens: 0,
          cachedInputTokens: 0,
          outputTokens: 0,
          reasoningOutputTokens: 0,
          totalTokens: 0,
        },
        finalResponse: "",
        error: toErrorInfo(error),
      };
    }
    if (plan.itemId !== undefined) {
      emit({ type: "item/completed", item: { id: plan.itemId, type: "plan", steps: plan.steps } });
    }
    emit({
      type: "turn/completed",
      turnId,
      status: outcome.status,
      usage: outcome.usage,
      ...(outcome.error === undefined ? {} : { error: outcome.error }),
    });
  }

  private record(turnId: string, item: HistoryItem): void {
    this.o.history.push(item);
    this.o.rollout.append("history", { turnId, item });
  }

  private toolContext(
    turnId: string,
    call: HistoryToolCall,
    signal: AbortSignal,
    emit: (event: ThreadEvent) => void,
    plan: ToolContext["plan"],
  ): ToolContext {
    return {
      threadId: this.id,
      turnId,
      callId: call.call_id,
      cwd: this.o.info.cwd,
      sandbox: this.o.sandbox,
      sandboxPolicy: this.o.sandboxPolicy,
      approvalPolicy: this.o.approvalPolicy,
      sessions: this.sessions,
      outputTokenLimit: this.o.outputTokenLimit,
      signal,
      emit,
      newItemId: () => newId("item"),
      askApproval: (request) => this.askApproval(request, emit),
      plan,
    };
  }

  private async askApproval(
    request: ApprovalRequest,
    emit: (event: ThreadEvent) => void,
  ): Promise<ApprovalDecision> {
    if (this.o.approvalPolicy === "never") return "denied";
    if (this.o.onApproval !== undefined) return this.o.onApproval(request);
    emit({
      type: "warning",
      message: `approval needed for "${request.summary}" but nobody can answer here (non-interactive): declined`,
    });
    return "denied";
  }
}

/** Folds a turn's events into its result. */
export async function foldTurn(events: AsyncIterable<EventEnvelope>): Promise<TurnResult> {
  const items: ThreadItem[] = [];
  let finalResponse = "";
  let result: TurnResult | undefined;
  for await (const { event } of events) {
    if (event.type === "item/completed") {
      items.push(event.item);
      if (event.item.type === "agentMessage") finalResponse = event.item.text;
    }
    if (event.type === "turn/completed") {
      result = {
        turnId: event.turnId,
        status: event.status,
        items: [...items],
        finalResponse,
        usage: event.usage,
        ...(event.error === undefined ? {} : { error: event.error }),
      };
    }
  }
  if (result === undefined) throw new KilnError("internal", "the turn ended without turn/completed");
  return result;
}
