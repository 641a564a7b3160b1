// A thread: the model's history, its rollout, and the turns run on it. A turn's events are numbered
// (gap-free `seq`), journaled to the rollout, and streamed to the caller; `run()` folds `runStreamed()`.
// Around the loop (run-turn.ts) the thread adds: approvals (approval-gate.ts), collaboration modes,
// steering input, budgets, compaction before a model call, and resuming a turn a crash cut off.
import {
  type ApprovalPolicy,
  addUsage,
  type CollaborationMode,
  type ContextCompactionItem,
  type EventEnvelope,
  emptyUsage,
  type HistoryItem,
  type HistoryToolCall,
  type InputPart,
  KilnError,
  newId,
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
import type { ModelPrice } from "../config/config-schema.ts";
import type { HarnessLimits } from "../config/load-config.ts";
import type { HookRunner } from "../hooks/hook-runner.ts";
import type { ModelClient } from "../model/model-client.ts";
import type { RetryOptions } from "../model/retry.ts";
import { planRollback, rollbackWarning } from "../rollout/rollback.ts";
import type { RolloutWriter } from "../rollout/rollout-writer.ts";
import { createExecSessions } from "../tools/exec-command/exec-sessions.ts";
import { outputItem, runToolCalls, type ToolSet } from "../tools/run-tool-calls.ts";
import type { Tool, ToolContext } from "../tools/tool.ts";
import { AsyncQueue } from "../util/async-queue.ts";
import { ApprovalGate, type Approver } from "./approval-gate.ts";
import {
  extractProposedPlan,
  modeApprovalPolicy,
  modeInstructions,
  modeSandboxPolicy,
  planModeTool,
  toolAllowed,
} from "./collaboration-mode.ts";
import { compactHistory, historyTokens, itemTokens } from "./compaction.ts";
import { createOutputSchemaCheck } from "./output-schema.ts";
import { runTurnLoop, type TurnInbox, type TurnOutcome } from "./run-turn.ts";
import { journaledStep, type StepJournal } from "./step-journal.ts";
import type { SubAgentHost } from "./sub-agents.ts";
import { normalizeInput, toModelContent } from "./user-input.ts";

/** Everything a thread is made of (assembled by `Kiln`). */
export interface AgentThreadOptions {
  info: ThreadInfo;
  rollout: RolloutWriter;
  history: HistoryItem[];
  lastEventSeq: number;
  /** The thread's past events (for approvals and cost after a resume). */
  events?: EventEnvelope[] | undefined;
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
  approver?: Approver | undefined;
  /** The last turn, cut off by a crash. */
  unfinishedTurn?: { context: TurnContext; danglingCalls: HistoryToolCall[] } | undefined;
  limits?: HarnessLimits | undefined;
  price?: ModelPrice | undefined;
  /** The model's context window, in tokens. */
  contextWindow?: number | undefined;
  /** Expands `/NAME args` custom prompts in the user's text. */
  expandPrompt?: ((text: string) => string) | undefined;
  /** The thread's sub-agents (absent past the depth limit). */
  subAgents?: SubAgentHost | undefined;
  /** Tools that need a connection first (MCP servers): started before the first turn. */
  connectTools?: ((onWarning: (message: string) => void) => Promise<ConnectedTools>) | undefined;
  /** Hooks (session_start, pre/post_tool_use, stop). */
  hooks?: HookRunner | undefined;
  /** Problems found while assembling the thread (e.g. a skill without a description), shown at the first turn. */
  startupWarnings?: string[] | undefined;
  /** Runs model and tool calls as journaled steps (a durable engine); absent: in-process. */
  journal?: StepJournal | undefined;
}

/** Tools that live as long as a connection. */
export interface ConnectedTools {
  tools: Tool[];
  close(): Promise<void>;
  /** Problems met while connecting (a server that did not start). */
  warnings?: string[];
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
  /** The new turn's id (a durable engine chooses it, so a replay has the same one); default: a new id. */
  turnId?: string;
}

/** The output given for a tool call that was running when the process died. */
export const INTERRUPTED_CALL_OUTPUT =
  "Error: this tool call was interrupted: the Kiln process stopped while it was running (killed or crashed), so it may have partly run. Check its effects before running it again.";

const ABANDONED_APPROVAL_OUTPUT =
  "Error: this call did not run: it was waiting for the user's approval when the Kiln process stopped, and the user moved on.";

const DEFAULT_LIMITS: HarnessLimits = {
  maxTurnTokens: undefined,
  maxThreadCostUsd: undefined,
  repeatedFailureLimit: 3,
  autoCompactTokenLimit: undefined,
  autoCompactShare: 0.8,
  maxCompactionsPerTurn: 2,
  subAgentMaxDepth: 2,
  subAgentMaxConcurrent: 4,
};

/** A conversation with the agent. */
export class AgentThread {
  private readonly o: AgentThreadOptions;
  private readonly limits: HarnessLimits;
  private readonly gate: ApprovalGate;
  private readonly sessions = createExecSessions();
  private seq: number;
  private running: AbortController | undefined;
  private unfinished: AgentThreadOptions["unfinishedTurn"];
  private mode: CollaborationMode;
  /** The mode the history last told the model about. */
  private announcedMode: CollaborationMode | undefined;
  private readonly steering: InputPart[][] = [];
  private threadCostUsd = 0;
  /** Tokens the model's context holds: the last reported prompt + output, plus estimates since. */
  private contextTokens: number;
  private proposedPlan: string | undefined;
  private connected: Promise<ConnectedTools> | undefined;
  /** Emits into the running turn's stream (children's events arrive at any time). */
  private live: ((event: ThreadEvent) => void) | undefined;
  /** Children's events that arrived between turns: they open the next stream, so seq stays gap-free. */
  private readonly betweenTurns: ThreadEvent[] = [];
  private sessionStarted = false;
  private readonly tools: Map<string, Tool>;

  constructor(options: AgentThreadOptions) {
    this.o = options;
    this.limits = options.limits ?? DEFAULT_LIMITS;
    this.seq = options.lastEventSeq;
    this.unfinished = options.unfinishedTurn;
    this.mode = options.info.mode;
    this.announcedMode = options.history.length === 0 ? undefined : options.info.mode;
    // A journal that waits for approvals durably answers them (and makes their ids replay-stable).
    const journal = options.journal;
    const durableApproval = journal?.approval?.bind(journal);
    this.gate = new ApprovalGate(
      () => modeApprovalPolicy(this.mode, this.o.approvalPolicy),
      durableApproval ?? options.approver,
      journal === undefined || durableApproval === undefined ? newId : (prefix) => journal.newId(prefix),
    );
    this.gate.restore(options.events ?? []);
    for (const { event } of options.events ?? []) {
      if (event.type === "usage/updated" && event.cost !== undefined)
        this.threadCostUsd = event.cost.threadUsd;
    }
    this.contextTokens = historyTokens(options.history);
    this.tools = new Map(options.tools);
    options.subAgents?.attach((event) => {
      if (this.live !== undefined) this.live(event);
      else this.betweenTurns.push(event);
    });
  }

  get id(): string {
    return this.o.info.id;
  }

  get info(): ThreadInfo {
    return { ...this.o.info, mode: this.mode };
  }

  get rolloutPath(): string {
    return this.o.rollout.path;
  }

  /** Whether the last turn was cut off by a crash and can be continued with `resumeUnfinished()`. */
  get hasUnfinishedTurn(): boolean {
    return this.unfinished !== undefined;
  }

  /** The plan proposed by the last plan-mode turn, if any. */
  get lastProposedPlan(): string | undefined {
    return this.proposedPlan;
  }

  /** Switches the collaboration mode for the next turns. */
  setMode(mode: CollaborationMode): void {
    this.mode = mode;
  }

  /** Approves the proposed plan: switches to code mode and runs a turn that carries it out. */
  approvePlan(options: RunOptions = {}): AsyncIterable<EventEnvelope> {
    const plan = this.proposedPlan;
    if (plan === undefined)
      throw new KilnError("conflict", "there is no proposed plan to approve: run a turn in plan mode first");
    this.proposedPlan = undefined;
    this.mode = "code";
    return this.runStreamed(`The plan is approved. Implement it now:\n\n${plan}`, options);
  }

  /** Runs a turn and collects its result. */
  async run(input: string | InputPart[], options: RunOptions = {}): Promise<TurnResult> {
    return foldTurn(this.runStreamed(input, options));
  }

  /**
   * Runs a turn, streaming its events. `/compact` compacts the history instead. A cut-off earlier turn
   * is closed first (its calls reported as interrupted).
   */
  runStreamed(input: string | InputPart[], options: RunOptions = {}): AsyncIterable<EventEnvelope> {
    const expand = this.o.expandPrompt;
    const parts = normalizeInput(input).map((p) =>
      p.type === "text" && expand !== undefined && p.text.startsWith("/")
        ? { ...p, text: expand(p.text) }
        : p,
    );
    if (parts.length === 1 && parts[0]?.type === "text" && parts[0].text.trim() === "/compact")
      return this.compact(options);
    return this.stream(options, (emit) => {
      this.closeUnfinished(emit);
      const turnId = options.turnId ?? this.newId("turn");
      return this.turn(turnId, emit, options, () => {
        if (this.o.history.length === 0)
          for (const item of this.o.initialContext()) this.record(turnId, item);
        this.userInput(turnId, parts, emit);
      });
    });
  }

  /** Adds input to the running turn; the model sees it before its next step. */
  steer(input: string | InputPart[]): void {
    if (this.running === undefined)
      throw new KilnError("conflict", `thread ${this.id} has no running turn to steer`);
    this.steering.push(normalizeInput(input));
  }

  /** Compacts the history now (as its own turn), whatever its size. */
  compact(options: RunOptions = {}): AsyncIterable<EventEnvelope> {
    return this.stream(options, (emit) => {
      this.closeUnfinished(emit);
      const turnId = newId("turn");
      return this.turn(
        turnId,
        emit,
        options,
        () => undefined,
        async (signal) => {
          const usage = await this.compactNow(turnId, (e) => emit(e, turnId), signal);
          return { status: "completed", usage, finalResponse: "" };
        },
      );
    });
  }

  /** Continues the turn a crash cut off, from its last completed step. */
  resumeUnfinished(options: RunOptions = {}): AsyncIterable<EventEnvelope> {
    const unfinished = this.unfinished;
    if (unfinished === undefined) {
      throw new KilnError("conflict", `thread ${this.id} has no unfinished turn to continue: give a prompt`);
    }
    const turnId = unfinished.context.turnId;
    if (this.running !== undefined)
      throw new KilnError("conflict", `thread ${this.id} is already running a turn`);
    this.unfinished = undefined;
    return this.stream(options, (emit) =>
      this.turn(
        turnId,
        emit,
        options,
        () => undefined,
        undefined,
        async (signal) => {
          // Calls that were waiting for an approval never started: ask again (same approval). Calls that
          // were running may have partly run: the model is told.
          const waiting = this.gate.pendingCallIds();
          const rerun = unfinished.danglingCalls.filter((c) => waiting.has(c.call_id));
          for (const call of unfinished.danglingCalls) {
            if (!waiting.has(call.call_id)) this.record(turnId, outputItem(call, INTERRUPTED_CALL_OUTPUT));
          }
          const plan: ToolContext["plan"] = { itemId: undefined, steps: [] };
          let unanswered = [...rerun];
          try {
            await runToolCalls(
              rerun,
              this.toolsForMode(),
              (call) => this.toolContext(turnId, call, signal, (e) => emit(e, turnId), plan),
              (output) => {
                unanswered = unanswered.filter((c) => !("call_id" in output) || c.call_id !== output.call_id);
                this.record(turnId, output);
              },
              undefined,
              this.o.journal,
            );
          } catch (error) {
            // Every call keeps an output, or the thread's next request would be rejected.
            for (const call of unanswered)
              this.record(turnId, outputItem(call, "Error: not run: the turn ended first"));
            throw error;
          }
        },
      ),
    );
  }

  /**
   * Drops the last `turns` turns from the model's history: the model no longer sees them. Files those
   * turns changed on disk are NOT reverted, and their events stay in the stream. Journaled in the
   * rollout, so a resumed thread has the same history; streams one `warning` event saying what was
   * dropped. Throws `conflict` while a turn runs (or a crash left one unfinished) and
   * `invalid_request` unless `turns` is from 1 to the number of turns (earlier rollbacks excluded).
   */
  rollback(turns: number): AsyncIterable<EventEnvelope> {
    if (this.running !== undefined)
      throw new KilnError("conflict", `thread ${this.id} is running a turn: roll back after it ends`);
    if (this.unfinished !== undefined) {
      throw new KilnError(
        "conflict",
        `thread ${this.id} has a turn a crash cut off: continue it (resumeUnfinished) before rolling back`,
      );
    }
    const plan = planRollback(this.o.rollout.path, turns);
    return this.stream({}, async (emit) => {
      this.o.history.splice(0, this.o.history.length, ...plan.history);
      this.o.rollout.append("compacted", { turnId: plan.lineTurnId, history: plan.history });
      this.contextTokens = historyTokens(plan.history);
      this.announcedMode = announcedMode(plan.history);
      this.proposedPlan = undefined;
      emit({ type: "warning", message: rollbackWarning(plan.droppedTurnIds) });
    });
  }

  /** Stops the running turn (the current command is killed; the turn ends `interrupted`). */
  interrupt(): void {
    this.running?.abort();
  }

  /** A new id; with a journal, the same one on a replay. */
  private newId(prefix: "turn" | "item"): string {
    return this.o.journal?.newId(prefix) ?? newId(prefix);
  }

  /** Kills background commands and closes the rollout. */
  close(): void {
    this.sessions.closeAll();
    this.o.subAgents?.closeAll();
    void this.connected?.then((c) => c.close()).catch(() => undefined);
    this.o.rollout.close();
  }

  /** Connects tools that need a connection (MCP servers), once; failures are warnings. */
  private async connectTools(emit: (event: ThreadEvent) => void): Promise<void> {
    const connect = this.o.connectTools;
    if (connect === undefined) return;
    const first = this.connected === undefined;
    this.connected ??= connect((message) => emit({ type: "warning", message }));
    const connected = await this.connected;
    if (first) for (const message of connected.warnings ?? []) emit({ type: "warning", message });
    for (const tool of connected.tools) if (!this.tools.has(tool.name)) this.tools.set(tool.name, tool);
  }

  /** Runs a hook event; its warnings become warning events. */
  private async hook(
    event: "session_start" | "stop",
    payload: { turnId?: string; finalMessage?: string },
    emit: (event: ThreadEvent) => void,
  ): Promise<void> {
    const hooks = this.o.hooks;
    if (hooks === undefined) return;
    const run = async (out: (event: ThreadEvent) => void) => {
      const outcome = await hooks.run(event, { threadId: this.id, ...payload });
      for (const message of outcome.warnings) out({ type: "warning", message });
    };
    // Hooks run commands: under a journal they run once, like tool calls.
    const journal = this.o.journal;
    await (journal === undefined ? run(emit) : journaledStep(journal, `hook ${event}`, emit, run));
  }

  private userInput(
    turnId: string,
    parts: InputPart[],
    emit: (e: ThreadEvent, turnId?: string) => void,
  ): void {
    const content = toModelContent(parts, this.o.info.cwd);
    this.record(turnId, { type: "message", role: "user", content });
    const user: ThreadItem = { id: this.newId("item"), type: "userMessage", content: parts };
    emit({ type: "item/started", item: user }, turnId);
    emit({ type: "item/completed", item: user }, turnId);
  }

  private closeUnfinished(emit: (e: ThreadEvent, turnId?: string) => void): void {
    const unfinished = this.unfinished;
    if (unfinished === undefined) return;
    this.unfinished = undefined;
    const turnId = unfinished.context.turnId;
    const waiting = this.gate.pendingCallIds();
    for (const call of unfinished.danglingCalls) {
      if (waiting.has(call.call_id)) this.gate.abandon(call.call_id, (e) => emit(e, turnId));
      this.record(
        turnId,
        outputItem(call, waiting.has(call.call_id) ? ABANDONED_APPROVAL_OUTPUT : INTERRUPTED_CALL_OUTPUT),
      );
    }
    emit(
      {
        type: "turn/completed",
        turnId,
        status: "interrupted",
        usage: emptyUsage(),
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
    if (this.seq === 0) emit({ type: "thread/started", thread: this.info });
    let turnId: string | undefined;
    this.live = (event) => emit(event, turnId);
    for (const event of this.betweenTurns.splice(0)) emit(event);
    const tracked = (event: ThreadEvent, id?: string) => {
      if (event.type === "turn/started") turnId = event.turnId;
      emit(event, id);
    };
    // A body that throws synchronously must not leave the thread marked as running.
    Promise.resolve()
      .then(() => body(tracked))
      .then(
        () => queue.end(),
        (error: unknown) => queue.fail(error),
      )
      .finally(() => {
        options.signal?.removeEventListener("abort", onAbort);
        this.running = undefined;
        this.live = undefined;
        this.steering.length = 0;
        this.o.rollout.sync();
      });
    return queue;
  }

  private async turn(
    turnId: string,
    emitAny: (event: ThreadEvent, turnId?: string) => void,
    options: RunOptions,
    begin: () => void,
    replaceLoop?: (signal: AbortSignal) => Promise<TurnOutcome>,
    beforeLoop?: (signal: AbortSignal) => Promise<void>,
  ): Promise<void> {
    const emit = (event: ThreadEvent) => emitAny(event, turnId);
    const signal = this.running?.signal ?? new AbortController().signal;
    const info = this.o.info;
    this.o.rollout.append("turn_context", {
      turnId,
      model: this.o.modelSettings.model,
      modelProvider: info.modelProvider,
      sandbox: modeSandboxPolicy(this.mode, this.o.sandboxPolicy).mode,
      approvalPolicy: modeApprovalPolicy(this.mode, this.o.approvalPolicy),
      mode: this.mode,
      cwd: info.cwd,
    });
    emit({ type: "turn/started", turnId });
    const plan: ToolContext["plan"] = { itemId: undefined, steps: [] };
    let compactions = 0;
    let turnCost = 0;
    let outcome: TurnOutcome;
    try {
      begin();
      await this.connectTools(emit);
      if (!this.sessionStarted) {
        this.sessionStarted = true;
        for (const message of this.o.startupWarnings ?? []) emit({ type: "warning", message });
        await this.hook("session_start", {}, emit);
      }
      // Code mode is the base prompt's default: only a different mode (or a change back) is announced.
      if (this.mode !== (this.announcedMode ?? "code") && replaceLoop === undefined) {
        this.record(turnId, {
          type: "message",
          role: "developer",
          content: [{ type: "input_text", text: modeInstructions(this.mode) }],
        });
        this.announcedMode = this.mode;
      }
      await beforeLoop?.(signal);
      const tools = this.toolsForMode();
      outcome =
        replaceLoop === undefined
          ? await runTurnLoop(
              {
                threadId: this.id,
                turnId,
                model: this.o.model,
                request: this.requestSettings(options),
                tools,
                retry: this.o.retry,
                history: this.o.history,
                record: (item) => this.record(turnId, item),
                emit,
                newItemId: () => this.newId("item"),
                journal: this.o.journal,
                toolContext: (call, sig) => this.toolContext(turnId, call, sig, emit, plan),
                checkFinal:
                  options.outputSchema === undefined
                    ? undefined
                    : createOutputSchemaCheck(options.outputSchema),
                repeatedFailureLimit: this.limits.repeatedFailureLimit,
                hooks:
                  this.o.hooks === undefined
                    ? undefined
                    : {
                        runner: this.o.hooks,
                        threadId: this.id,
                        turnId,
                        cwd: info.cwd,
                        onWarning: (message) => emit({ type: "warning", message }),
                      },
                hasPendingInput: () => this.steering.length > 0,
                inbox: this.inbox(turnId, emitAny),
                beforeModelCall: async (sig) => {
                  this.drainSteering(turnId, emitAny);
                  this.checkThreadCost();
                  if (!this.needsCompaction()) return undefined;
                  if (compactions >= this.limits.maxCompactionsPerTurn) {
                    throw new KilnError(
                      "context_window_exceeded",
                      `the context is still too large after ${compactions} compaction${compactions === 1 ? "" : "s"} in this turn: start a new thread, or raise max_compactions_per_turn`,
                    );
                  }
                  compactions++;
                  return this.compactNow(turnId, emit, sig);
                },
                priceCall: (call) => {
                  if (this.o.price === undefined) return undefined;
                  const callUsd = this.cost(call);
                  turnCost += callUsd;
                  this.threadCostUsd += callUsd;
                  return { callUsd, turnUsd: turnCost, threadUsd: this.threadCostUsd };
                },
                afterModelCall: (call, turnUsage) => {
                  this.contextTokens = call.inputTokens + call.outputTokens;
                  this.checkBudgets(turnUsage);
                },
              },
              signal,
            )
          : await replaceLoop(signal);
    } catch (error) {
      const info = toErrorInfo(error);
      const status = info.code === "turn_interrupted" ? "interrupted" : "failed";
      outcome = { status, usage: emptyUsage(), finalResponse: "", error: info };
    }
    if (plan.itemId !== undefined) {
      emit({ type: "item/completed", item: { id: plan.itemId, type: "plan", steps: plan.steps } });
    }
    // Sub-agents' turns that finished during this turn count towards it.
    const childUsage = this.o.subAgents?.takeUsage();
    if (childUsage !== undefined && childUsage.totalTokens > 0)
      outcome = { ...outcome, usage: addUsage(outcome.usage, childUsage) };
    await this.hook("stop", { turnId, finalMessage: outcome.finalResponse }, emit).catch(() => undefined);
    if (this.mode === "plan" && outcome.status === "completed" && outcome.finalResponse !== "") {
      this.proposedPlan = extractProposedPlan(outcome.finalResponse);
    }
    emit({
      type: "turn/completed",
      turnId,
      status: outcome.status,
      usage: outcome.usage,
      ...(outcome.error === undefined ? {} : { error: outcome.error }),
    });
  }

  private requestSettings(options: RunOptions) {
    return {
      model: this.o.modelSettings.model,
      instructions: this.o.instructions,
      parallelToolCalls: true,
      reasoningEffort: this.o.modelSettings.reasoningEffort,
      reasoningSummary: this.o.modelSettings.reasoningSummary,
      promptCacheKey: this.id,
      outputSchema: options.outputSchema,
    };
  }

  private toolsForMode(): ToolSet {
    const allowed = [...this.tools].filter(([name]) => toolAllowed(this.mode, name));
    return new Map(
      this.mode === "plan" ? allowed.map(([name, tool]) => [name, planModeTool(tool)]) : allowed,
    );
  }

  /** A durable turn's steering input (the journal's inbox), in the shape the turn loop takes it. */
  private inbox(turnId: string, emit: (e: ThreadEvent, turnId?: string) => void): TurnInbox | undefined {
    const journal = this.o.journal;
    const take = journal?.inbox?.bind(journal);
    if (take === undefined) return undefined;
    let takes = 0;
    return {
      nextKey: () => `${turnId}#${++takes}`,
      take,
      message: (parts) => ({
        type: "message",
        role: "user",
        content: toModelContent(parts, this.o.info.cwd),
      }),
      accept: (parts) => this.userInput(turnId, parts, emit),
    };
  }

  private drainSteering(turnId: string, emit: (e: ThreadEvent, turnId?: string) => void): void {
    for (const parts of this.steering.splice(0)) this.userInput(turnId, parts, emit);
  }

  private needsCompaction(): boolean {
    const window = this.o.contextWindow;
    const limit =
      this.limits.autoCompactTokenLimit ??
      (window === undefined ? undefined : Math.floor(window * this.limits.autoCompactShare));
    return limit !== undefined && this.contextTokens >= limit;
  }

  private async compactNow(
    turnId: string,
    emit: (event: ThreadEvent) => void,
    signal: AbortSignal,
  ): Promise<Usage> {
    const opening = this.o.history.findIndex(
      (i) => !(i.type === "message" && (i.role === "developer" || i.role === "system")),
    );
    const openingItems = Math.min(2, opening === -1 ? this.o.history.length : Math.max(opening + 1, 0));
    const itemId = this.newId("item");
    const summarize = () =>
      compactHistory({
        model: this.o.model,
        request: this.requestSettings({}),
        history: this.o.history,
        openingItems,
        retry: this.o.retry,
        signal,
      });
    const journal = this.o.journal;
    const result = journal === undefined ? await summarize() : await journal.step("compact", summarize);
    this.o.history.splice(0, this.o.history.length, ...result.history);
    this.o.rollout.append("compacted", { turnId, history: result.history });
    this.contextTokens = result.tokensAfter;
    this.announcedMode = undefined;
    const item: ContextCompactionItem = {
      id: itemId,
      type: "contextCompaction",
      summary: result.summary,
      tokensBefore: result.tokensBefore,
      tokensAfter: result.tokensAfter,
    };
    emit({ type: "item/started", item });
    emit({ type: "item/completed", item });
    return result.usage;
  }

  private cost(usage: Usage): number {
    const price = this.o.price;
    if (price === undefined) return 0;
    const cached = usage.cachedInputTokens;
    const fresh = usage.inputTokens - cached;
    return (
      (fresh * price.input +
        cached * (price.cached_input ?? price.input) +
        usage.outputTokens * price.output) /
      1_000_000
    );
  }

  private checkBudgets(turn: Usage): void {
    const maxTokens = this.limits.maxTurnTokens;
    if (maxTokens !== undefined && turn.totalTokens > maxTokens) {
      throw new KilnError(
        "budget_exceeded",
        `this turn used ${turn.totalTokens} tokens, over max_turn_tokens = ${maxTokens}: raise it (-c max_turn_tokens=…) or split the task`,
        { retryable: false, details: { used: turn.totalTokens, limit: maxTokens } },
      );
    }
    this.checkThreadCost();
  }

  /** Stops before spending more on a thread that is over `max_thread_cost`. */
  private checkThreadCost(): void {
    const maxCost = this.limits.maxThreadCostUsd;
    if (maxCost !== undefined && this.threadCostUsd > maxCost) {
      throw new KilnError(
        "budget_exceeded",
        `this thread has cost $${this.threadCostUsd.toFixed(4)}, over max_thread_cost = $${maxCost}: raise it (-c max_thread_cost=…) to go on`,
        { retryable: false, details: { costUsd: this.threadCostUsd, limit: maxCost } },
      );
    }
  }

  private record(turnId: string, item: HistoryItem): void {
    this.o.history.push(item);
    this.contextTokens += itemTokens(item);
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
      sandboxPolicy: modeSandboxPolicy(this.mode, this.o.sandboxPolicy),
      approvalPolicy: modeApprovalPolicy(this.mode, this.o.approvalPolicy),
      sessions: this.sessions,
      outputTokenLimit: this.o.outputTokenLimit,
      signal,
      emit,
      newItemId: () => newId("item"),
      askApproval: (request) => this.gate.ask(request, emit, signal),
      agents: this.o.subAgents,
      plan,
    };
  }
}

const MODES: readonly CollaborationMode[] = ["plan", "code", "execute"];

/** The mode the last mode instructions in `history` announced (none: the base prompt's, code). */
function announcedMode(history: HistoryItem[]): CollaborationMode | undefined {
  for (let i = history.length - 1; i >= 0; i--) {
    const item = history[i];
    if (item?.type !== "message" || item.role !== "developer") continue;
    const text = item.content.map((part) => ("text" in part ? part.text : "")).join("");
    const mode = MODES.find((m) => modeInstructions(m) === text);
    if (mode !== undefined) return mode;
  }
  return undefined;
}

/** Folds a turn's events into its result. */
export async function foldTurn(events: AsyncIterable<EventEnvelope>): Promise<TurnResult> {
  const items: ThreadItem[] = [];
  let finalResponse = "";
  let result: TurnResult | undefined;
  let started = false;
  for await (const { event } of events) {
    if (event.type === "turn/started") started = true;
    if (!started) continue;
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
