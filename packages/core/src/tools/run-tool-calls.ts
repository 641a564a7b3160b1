// Runs one model response's tool calls: consecutive read-only calls run together, each mutating call
// runs alone, in the order the model made them. Each output is handed to `onOutput` as soon as its
// group finishes, so the caller can journal it before the next call starts. With hooks, every call
// whose arguments parsed goes through the user's `pre_tool_use` hooks first (a block becomes the
// call's output and the tool does not run) and its output through the `post_tool_use` hooks after.
import type { HistoryItem, HistoryToolCall, ThreadEvent } from "@kiln/protocol";
import { KilnError } from "@kiln/protocol";
import { INTERRUPTED_STEP_OUTPUT, type StepJournal } from "../agent/step-journal.ts";
import type { HookRunner } from "../hooks/hook-runner.ts";
import {
  type ApprovalDecision,
  type ApprovalRequest,
  type Tool,
  type ToolContext,
  ToolError,
} from "./tool.ts";

/** The tools offered in a turn, by name. */
export type ToolSet = ReadonlyMap<string, Tool>;

/** The user's hooks around each tool call, and where their warnings go. */
export interface ToolCallHooks {
  runner: HookRunner;
  threadId: string;
  turnId: string;
  cwd: string;
  /** A hook failed or timed out (the call went on): show it to the user. */
  onWarning(message: string): void;
  /** A `pre_tool_use` hook blocked a call (the model is told through the call's output). */
  onBlocked?(blocked: { callId: string; toolName: string; reason: string; hook: string }): void;
}

interface Prepared {
  call: HistoryToolCall;
  tool: Tool | undefined;
  args: unknown;
  error: ToolError | undefined;
  mutating: boolean;
  /** Runs outside a journaled step (see `Tool.runsOutsideSteps`), and alone. */
  outsideSteps: boolean;
}

/**
 * Runs the calls and reports each output in call order. Errors other than ToolError end the turn.
 * With a journal, each call (hooks included) is one journaled step: a replay returns its output.
 */
export async function runToolCalls(
  calls: HistoryToolCall[],
  tools: ToolSet,
  contextFor: (call: HistoryToolCall) => ToolContext,
  onOutput: (output: HistoryItem) => void,
  hooks?: ToolCallHooks,
  journal?: StepJournal,
): Promise<void> {
  const prepared = calls.map((call) => {
    const p = prepare(call, tools);
    p.outsideSteps = journal !== undefined && p.tool?.runsOutsideSteps?.(contextFor(call)) === true;
    return p;
  });
  let index = 0;
  while (index < prepared.length) {
    const group: Prepared[] = [];
    const first = prepared[index];
    if (first === undefined) break;
    if (first.mutating || first.outsideSteps) {
      group.push(first);
      index++;
    } else {
      while (
        index < prepared.length &&
        prepared[index]?.mutating === false &&
        prepared[index]?.outsideSteps === false
      ) {
        group.push(prepared[index] as Prepared);
        index++;
      }
    }
    const contexts = group.map((p) => contextFor(p.call));
    // An interrupt stops the calls not started yet (the caller answers them as not run).
    if (contexts[0]?.signal?.aborted === true)
      throw new KilnError("turn_interrupted", "the turn was interrupted");
    // All calls of a group settle before anything is reported, so none runs on after the turn ended.
    const settled = await Promise.allSettled(
      group.map((p, i) => {
        const ctx = contexts[i] as ToolContext;
        if (journal !== undefined && p.outsideSteps) {
          // Its own operations are journaled; ids and hooks must be replay-stable too.
          const c: ToolContext = { ...ctx, newItemId: () => journal.newId("item") };
          return hooks === undefined
            ? execute(p, c)
            : executeWithHooks(p, c, journaledHooks(hooks, journal, p.call.call_id));
        }
        const run = (c: ToolContext) => (hooks === undefined ? execute(p, c) : executeWithHooks(p, c, hooks));
        if (journal === undefined) return run(ctx);
        return journaledCall(journal, p, ctx, run);
      }),
    );
    let failure: { reason: unknown } | undefined;
    for (const [i, p] of group.entries()) {
      const result = settled[i];
      if (result?.status === "fulfilled") onOutput(outputItem(p.call, result.value));
      else failure ??= { reason: result?.reason };
    }
    if (failure !== undefined) throw failure.reason;
  }
}

/** The journal's save after a mutating call (inside its step); a failure to save is a warning. */
async function saveAfterMutation(journal: StepJournal, events: ThreadEvent[]): Promise<void> {
  const warning = await journal.afterMutation?.();
  if (warning !== undefined) events.push({ type: "warning", message: warning });
}

/** Hooks whose runs are journaled steps (for a call that runs outside a step). */
function journaledHooks(hooks: ToolCallHooks, journal: StepJournal, callId: string): ToolCallHooks {
  const runner = hooks.runner;
  return {
    ...hooks,
    runner: {
      run: (event, payload, signal) =>
        journal.step(`hook ${event} ${callId}`, () => runner.run(event, payload, signal)),
    },
  };
}

/** A call's step stopped at a question it may not wait for inside the step. */
class ApprovalNeeded extends Error {
  constructor(readonly request: ApprovalRequest) {
    super("approval needed");
  }
}

/** What one attempt of a call records: its output, or the approval it stopped at. */
interface Attempt {
  output: string;
  approval: ApprovalRequest | null;
  events: ThreadEvent[];
  plan: { itemId: string | null; steps: ToolContext["plan"]["steps"] };
  /** Results of the parts run through `ctx.once` (kept for the next attempt). */
  once?: Record<string, unknown>;
}

/**
 * One call as journaled steps. Its events and the plan it updated are recorded with its output, so a
 * replay emits the same events and leaves the same plan as the first run. A mutating call first
 * journals that it starts: a replay that finds it started but not finished (its process died while it
 * ran) does not run it again but tells the model, as a single node does after a crash.
 *
 * Under a journal that waits for approvals durably (`journal.approval`; Restate forbids waiting inside
 * a step) each attempt is such a step: the tool runs with the decisions known so far; at a question it
 * has no decision for, the step ends recording the question; the question is asked between steps
 * (`ctx.askApproval` → the gate → the journal's `approval`), and the next attempt runs with the
 * answer. Tools ask before they act, so an attempt that stops at a question did nothing — or only what
 * it ran through `ctx.once` (the sandboxed attempt before an `on-failure` question), whose result is
 * recorded and answered to the next attempt instead of acting again. A question asked after the call
 * did anything else cannot stop it and is declined, with a warning. Without the hook, questions are
 * answered inside the step and there is one attempt.
 */
async function journaledCall(
  journal: StepJournal,
  p: Prepared,
  ctx: ToolContext,
  run: (ctx: ToolContext) => Promise<string>,
): Promise<string> {
  const call = p.call;
  const decisions: ApprovalDecision[] = [];
  // Parts of the call run through `ctx.once` in earlier attempts, by key: not run again.
  const done: Record<string, unknown> = {};
  for (let attempt = 1; ; attempt++) {
    const name = `${call.name} ${call.call_id}${attempt === 1 ? "" : ` #${attempt}`}`;
    let startedNow = true;
    if (p.mutating) {
      startedNow = false;
      await journal.step(`start ${name}`, async () => {
        startedNow = true;
        return null;
      });
    }
    const recorded = await journal.step(`tool ${name}`, async (): Promise<Attempt> => {
      const plan = () => ({ itemId: ctx.plan.itemId ?? null, steps: ctx.plan.steps });
      if (!startedNow) {
        const warning: ThreadEvent = {
          type: "warning",
          message: `${call.name} call ${call.call_id}: ${INTERRUPTED_STEP_OUTPUT}`,
        };
        return { output: INTERRUPTED_STEP_OUTPUT, approval: null, events: [warning], plan: plan() };
      }
      const events: ThreadEvent[] = [];
      const ran: Record<string, unknown> = {};
      // Events emitted inside `once` parts: their effects are recorded, so stopping after them is safe.
      let recordedEvents = 0;
      const once = async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
        if (key in done) return done[key] as T;
        const before = events.length;
        const value = await fn();
        ran[key] = value;
        recordedEvents += events.length - before;
        return value;
      };
      let asked = 0;
      const askApproval = async (request: ApprovalRequest): Promise<ApprovalDecision> => {
        const known = decisions[asked++];
        if (known !== undefined) return known;
        if (events.length === recordedEvents) throw new ApprovalNeeded(request);
        events.push({
          type: "warning",
          message: `approval needed for "${request.summary}" after the call had started: a durable thread cannot wait for it there, so it was declined`,
        });
        return "denied";
      };
      const durable = journal.approval === undefined ? {} : { askApproval, once };
      try {
        const output = await run({ ...ctx, emit: (event) => events.push(event), ...durable });
        if (p.mutating) await saveAfterMutation(journal, events);
        return { output, approval: null, events, plan: plan() };
      } catch (error) {
        if (!(error instanceof ApprovalNeeded)) throw error;
        if (recordedEvents > 0 && p.mutating) await saveAfterMutation(journal, events);
        return { output: "", approval: error.request, events, plan: plan(), once: ran };
      }
    });
    Object.assign(done, recorded.once ?? {});
    ctx.plan.itemId = recorded.plan.itemId ?? undefined;
    ctx.plan.steps = recorded.plan.steps;
    for (const event of recorded.events) ctx.emit(event);
    if (recorded.approval === null) return recorded.output;
    const decision = await ctx.askApproval(recorded.approval);
    if (decision === "aborted")
      throw new KilnError("turn_interrupted", "the turn was aborted at an approval");
    decisions.push(decision);
  }
}

function prepare(call: HistoryToolCall, tools: ToolSet): Prepared {
  const tool = tools.get(call.name);
  if (tool === undefined) {
    const known = [...tools.keys()].join(", ");
    return {
      call,
      tool,
      args: undefined,
      mutating: false,
      outsideSteps: false,
      error: ToolError.respondToModel(`unknown tool "${call.name}"; available tools: ${known}`),
    };
  }
  try {
    const args = tool.parse(call);
    return { call, tool, args, mutating: tool.isMutating(args), outsideSteps: false, error: undefined };
  } catch (error) {
    if (error instanceof ToolError)
      return { call, tool, args: undefined, mutating: false, outsideSteps: false, error };
    throw error;
  }
}

async function execute(p: Prepared, ctx: ToolContext): Promise<string> {
  if (p.error !== undefined || p.tool === undefined) return `Error: ${p.error?.message ?? "unknown tool"}`;
  try {
    return await p.tool.execute(p.args, ctx);
  } catch (error) {
    if (error instanceof ToolError) return `Error: ${error.message}`;
    if (error instanceof KilnError && error.code === "sandbox_denied") return `Error: ${error.message}`;
    throw error;
  }
}

/** `execute` between the pre and post hooks; calls that did not parse go to the model without hooks. */
async function executeWithHooks(p: Prepared, ctx: ToolContext, hooks: ToolCallHooks): Promise<string> {
  if (p.error !== undefined || p.tool === undefined) return execute(p, ctx);
  const payload = {
    threadId: hooks.threadId,
    turnId: hooks.turnId,
    cwd: hooks.cwd,
    toolName: p.call.name,
    toolInput: hookToolInput(p.call),
  };
  const pre = await hooks.runner.run("pre_tool_use", payload, ctx.signal);
  for (const warning of pre.warnings) hooks.onWarning(warning);
  if (pre.blocked !== undefined) {
    hooks.onBlocked?.({ callId: p.call.call_id, toolName: p.call.name, ...pre.blocked });
    return `Error: blocked by hook: ${pre.blocked.reason}`;
  }
  const output = await execute(p, ctx);
  try {
    const post = await hooks.runner.run("post_tool_use", { ...payload, toolOutput: output }, ctx.signal);
    for (const warning of post.warnings) hooks.onWarning(warning);
  } catch (error) {
    // The call ran: its output must still reach the journal. The turn loop sees the abort right after.
    if (!(error instanceof KilnError && error.code === "turn_interrupted")) throw error;
  }
  return output;
}

/** What hooks see as `tool_input`: the JSON arguments parsed, or a freeform call's text (a patch). */
function hookToolInput(call: HistoryToolCall): unknown {
  if (call.type === "custom_tool_call") return call.input;
  try {
    return JSON.parse(call.arguments === "" ? "{}" : call.arguments);
  } catch {
    return call.arguments;
  }
}

/** The history item carrying a call's output back to the model. */
export function outputItem(call: HistoryToolCall, output: string): HistoryItem {
  return call.type === "custom_tool_call"
    ? { type: "custom_tool_call_output", call_id: call.call_id, output }
    : { type: "function_call_output", call_id: call.call_id, output };
}
