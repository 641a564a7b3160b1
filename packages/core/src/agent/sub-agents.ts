// Sub-agents: child threads a thread spawns to work in parallel. Each child has its own history and
// rollout (linked to its parent), runs its turns in the background, and reports to the parent's stream
// (its completed items and turn ends). Limits: nesting depth, and children running at once across the
// whole tree; a child's usage rolls up into the parent turn that waits for it.
import {
  type ApprovalPolicy,
  addUsage,
  type EventEnvelope,
  emptyUsage,
  KilnError,
  type ThreadEvent,
  type ThreadInfo,
  type TurnStatus,
  type Usage,
} from "@kiln/protocol";
import type { AgentThread } from "./agent-thread.ts";

/** The result of one child's turn. */
export interface SubAgentResult {
  id: string;
  status: TurnStatus | "running";
  finalResponse: string;
}

/** What the sub-agent tools use. */
export interface SubAgentControl {
  spawn(prompt: string, model: string | undefined, approvalPolicy: ApprovalPolicy): string | Promise<string>;
  send(id: string, message: string): void | Promise<void>;
  wait(ids: string[], timeoutMs: number, signal: AbortSignal): Promise<SubAgentResult[]>;
  close(id: string): void | Promise<void>;
  /** Ids of this thread's sub-agents. */
  ids(): string[];
  /**
   * The control journals its own operations (a durable engine's calls to child objects): the
   * sub-agent tools then run outside a journaled step, since such calls cannot run inside one.
   */
  readonly journalsItself?: boolean;
}

/** The sub-agents of one thread, as the thread uses them. */
export interface SubAgentHost extends SubAgentControl {
  /** Connects the children's events to the parent thread. */
  attach(emit: (event: ThreadEvent) => void): void;
  /** Takes the children's usage gathered since the last call (rolled into the parent's turn). */
  takeUsage(): Usage;
  /** The parent thread is closing. */
  closeAll(): void;
}

/** What an embedder's sub-agents are made from (see `Kiln.openThread`). */
export interface SubAgentParent {
  /** The parent thread's settings. */
  info: ThreadInfo;
  /** The parent's depth in its tree (0: a root thread). */
  depth: number;
  maxDepth: number;
  /** Children one thread may run at once. */
  maxConcurrent: number;
}

/** Shared by every thread of one tree: how many children are running now. */
export interface SubAgentBudget {
  running: number;
  maxConcurrent: number;
  maxDepth: number;
}

interface Child {
  thread: AgentThread;
  done: Promise<void>;
  status: TurnStatus | "running";
  finalResponse: string;
}

/** Creates a child thread at the given depth. */
export type ChildFactory = (options: {
  model: string | undefined;
  depth: number;
  /** The parent's effective policy (execute mode's `never` reaches its children). */
  approvalPolicy: ApprovalPolicy;
}) => AgentThread;

/** The sub-agents of one thread. */
export class SubAgents implements SubAgentHost {
  private readonly children = new Map<string, Child>();
  /** Usage of children's turns not yet counted in a parent turn. */
  private pendingUsage: Usage = emptyUsage();

  constructor(
    private readonly factory: ChildFactory,
    private readonly depth: number,
    private readonly budget: SubAgentBudget,
  ) {}

  /** Where children's events go: the parent thread's stream (buffered between its turns). */
  private emit: (event: ThreadEvent) => void = () => undefined;

  /** Connects the children's events to the parent thread. */
  attach(emit: (event: ThreadEvent) => void): void {
    this.emit = emit;
  }

  /** Takes the children's usage gathered since the last call (rolled into the parent's turn). */
  takeUsage(): Usage {
    const usage = this.pendingUsage;
    this.pendingUsage = emptyUsage();
    return usage;
  }

  spawn(prompt: string, model: string | undefined, approvalPolicy: ApprovalPolicy): string {
    if (this.depth + 1 > this.budget.maxDepth) {
      throw new KilnError(
        "invalid_request",
        `sub-agent depth limit reached (${this.budget.maxDepth}): do this work yourself`,
      );
    }
    this.checkCapacity();
    // Reserve only once the child exists: a child that cannot be made must not use up a slot.
    const thread = this.factory({ model, depth: this.depth + 1, approvalPolicy });
    this.budget.running++;
    const child: Child = { thread, done: Promise.resolve(), status: "running", finalResponse: "" };
    this.children.set(thread.id, child);
    this.runTurn(child, prompt);
    return thread.id;
  }

  send(id: string, message: string): void {
    const child = this.get(id);
    if (child.status === "running") {
      child.thread.steer(message);
      return;
    }
    this.checkCapacity();
    this.budget.running++;
    this.runTurn(child, message);
  }

  async wait(ids: string[], timeoutMs: number, signal: AbortSignal): Promise<SubAgentResult[]> {
    if (signal.aborted) throw new KilnError("turn_interrupted", "the turn was interrupted");
    const children = ids.map((id) => [id, this.get(id)] as const);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
      signal.addEventListener("abort", () => resolve(), { once: true });
    });
    await Promise.race([Promise.all(children.map(([, c]) => c.done)), timeout]);
    clearTimeout(timer);
    return children.map(([id, c]) => ({ id, status: c.status, finalResponse: c.finalResponse }));
  }

  ids(): string[] {
    return [...this.children.keys()];
  }

  close(id: string): void {
    const child = this.get(id);
    child.thread.interrupt();
    void child.done.then(() => child.thread.close());
    this.children.delete(id);
  }

  /** Interrupts and closes every child (the parent thread is closing). */
  closeAll(): void {
    for (const id of [...this.children.keys()]) this.close(id);
  }

  private get(id: string): Child {
    const child = this.children.get(id);
    if (child === undefined)
      throw new KilnError(
        "not_found",
        `no sub-agent ${id} (known: ${[...this.children.keys()].join(", ") || "none"})`,
      );
    return child;
  }

  private checkCapacity(): void {
    if (this.budget.running >= this.budget.maxConcurrent) {
      throw new KilnError(
        "conflict",
        `${this.budget.running} sub-agents are already running (the limit is ${this.budget.maxConcurrent}): wait for one with wait_agent first`,
      );
    }
  }

  private runTurn(child: Child, input: string): void {
    const emit = this.emit;
    child.status = "running";
    const forward = async (events: AsyncIterable<EventEnvelope>) => {
      for await (const { event } of events) {
        if (event.type === "item/completed" && event.item.type !== "userMessage") {
          emit({ type: "subAgent/item", childThreadId: child.thread.id, item: event.item });
        }
        if (event.type === "turn/completed") {
          child.status = event.status;
          this.pendingUsage = addUsage(this.pendingUsage, event.usage);
          emit({
            type: "subAgent/turnCompleted",
            childThreadId: child.thread.id,
            status: event.status,
            usage: event.usage,
            finalResponse: child.finalResponse,
          });
        }
        if (event.type === "item/completed" && event.item.type === "agentMessage")
          child.finalResponse = event.item.text;
      }
    };
    child.done = forward(child.thread.runStreamed(input))
      .catch((error: unknown) => {
        child.status = "failed";
        child.finalResponse = error instanceof Error ? error.message : String(error);
      })
      .finally(() => {
        this.budget.running--;
      });
  }
}
