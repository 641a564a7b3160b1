// Folds a thread's event envelopes into what a timeline shows: one entry per item (keyed by item id:
// `item/started` → deltas → `item/completed`, which is authoritative and final), a marker where each
// turn ended (with its status, time and usage), and notices (warnings, model retries). An envelope whose seq is not past the last one folded is
// skipped, so a replay after a reconnect never shows an event twice. Pure and copy-on-write: a batch
// of envelopes gives a new state whose unchanged entries are the same objects (cheap React renders).
import {
  addUsage,
  assertNever,
  type ErrorInfo,
  type EventEnvelope,
  emptyUsage,
  type ThreadInfo,
  type ThreadItem,
  type TurnStatus,
  type Usage,
} from "@kiln/protocol";

/** Where an item is: still arriving, done (the completed item is final), or left open by its turn. */
export type ItemState = "streaming" | "completed" | "abandoned";

/** One entry of a timeline. */
export type TimelineEntry =
  | {
      type: "item";
      /** The item's id: the entry's key. */
      key: string;
      item: ThreadItem;
      state: ItemState;
      turnId: string | undefined;
      /** Unix ms of its first event. */
      startedAt: number;
      /** Unix ms of its `item/completed`. */
      completedAt: number | undefined;
    }
  | {
      /** Where a turn ended. */
      type: "turn";
      key: string;
      turnId: string;
      status: TurnStatus;
      startedAt: number;
      completedAt: number | undefined;
      usage: Usage | undefined;
      error: ErrorInfo | undefined;
    }
  | { type: "notice"; key: string; level: "warning" | "retrying"; message: string; at: number };

/** Token usage and cost as the latest `usage/updated` and `turn/completed` events give them. */
export interface TimelineUsage {
  /** The running turn's total so far (the last turn's once it ended). */
  turn: Usage;
  /** All turns of the thread seen so far. */
  thread: Usage;
  /** US dollars, when the model has a price. */
  turnUsd: number | undefined;
  threadUsd: number | undefined;
}

/** A thread's events, folded. */
export interface TimelineState {
  /** The seq of the last envelope folded (0: none). Resume the stream after it. */
  lastSeq: number;
  entries: readonly TimelineEntry[];
  /** The thread's settings, from `thread/started`. */
  thread: ThreadInfo | undefined;
  usage: TimelineUsage | undefined;
  /** The turn in progress, if any. */
  runningTurnId: string | undefined;
  /** When each turn started (Unix ms), by turn id. */
  turnStartedAt: Readonly<Record<string, number>>;
  /** Items completed in sub-agents' threads, per child thread id. */
  subAgentItems: Readonly<Record<string, readonly ThreadItem[]>>;
}

/** A timeline with nothing in it. */
export const EMPTY_TIMELINE: TimelineState = {
  lastSeq: 0,
  entries: [],
  thread: undefined,
  usage: undefined,
  runningTurnId: undefined,
  turnStartedAt: {},
  subAgentItems: {},
};

/** Folds `envelopes` (any order, duplicates allowed) into a fresh timeline. */
export function foldEvents(envelopes: readonly EventEnvelope[]): TimelineState {
  const sorted = [...envelopes].sort((a, b) => a.seq - b.seq);
  return applyEvents(EMPTY_TIMELINE, sorted);
}

/** Folds `envelopes` (in seq order) into `state`; those at or before `state.lastSeq` are skipped. */
export function applyEvents(state: TimelineState, envelopes: readonly EventEnvelope[]): TimelineState {
  if (!envelopes.some((e) => e.seq > state.lastSeq)) return state;
  const draft = new Draft(state);
  for (const envelope of envelopes) draft.apply(envelope);
  return draft.result();
}

/** The mutable copy one batch is folded into. */
class Draft {
  readonly #entries: TimelineEntry[];
  readonly #index = new Map<string, number>();
  #state: TimelineState;
  #subAgentItems: Record<string, readonly ThreadItem[]>;
  #completedTurnsUsage: Usage;

  constructor(state: TimelineState) {
    this.#state = state;
    this.#entries = [...state.entries];
    this.#entries.forEach((entry, i) => {
      this.#index.set(entry.key, i);
    });
    this.#subAgentItems = state.subAgentItems;
    this.#completedTurnsUsage = completedTurnsUsage(state);
  }

  result(): TimelineState {
    return { ...this.#state, entries: this.#entries, subAgentItems: this.#subAgentItems };
  }

  apply(envelope: EventEnvelope): void {
    const { event, seq, at } = envelope;
    if (seq <= this.#state.lastSeq) return;
    this.#state = { ...this.#state, lastSeq: seq };
    switch (event.type) {
      case "thread/started":
        this.#state = { ...this.#state, thread: event.thread };
        return;
      case "turn/started":
        this.#state = {
          ...this.#state,
          runningTurnId: event.turnId,
          turnStartedAt: { ...this.#state.turnStartedAt, [event.turnId]: at },
        };
        return;
      case "turn/completed":
        this.#turnCompleted(envelope, event);
        return;
      case "item/started":
      case "item/updated":
        this.#itemChanged(envelope, event.item, false);
        return;
      case "item/completed":
        this.#itemChanged(envelope, event.item, true);
        return;
      case "item/agentMessage/delta":
        this.#textDelta(envelope, event.itemId, event.delta, "agentMessage");
        return;
      case "item/reasoning/delta":
        this.#textDelta(envelope, event.itemId, event.delta, "reasoning");
        return;
      case "item/commandExecution/outputDelta": {
        const entry = this.#item(event.itemId);
        if (entry?.state !== "streaming" || entry.item.type !== "commandExecution") return;
        const item = { ...entry.item, aggregatedOutput: entry.item.aggregatedOutput + event.delta };
        this.#put({ ...entry, item });
        return;
      }
      case "usage/updated": {
        const usage: TimelineUsage = {
          turn: event.turn,
          thread: addUsage(this.#completedTurnsUsage, event.turn),
          turnUsd: event.cost?.turnUsd ?? this.#state.usage?.turnUsd,
          threadUsd: event.cost?.threadUsd ?? this.#state.usage?.threadUsd,
        };
        this.#state = { ...this.#state, usage };
        return;
      }
      case "model/retrying":
        // What the failed call streamed is void: the retried call streams it again.
        this.#removeWhere((e) => e.type === "item" && e.state === "streaming" && isModelText(e.item));
        this.#put({
          type: "notice",
          key: `seq:${seq}`,
          level: "retrying",
          message: `Model error, retrying (${event.attempt}/${event.maxAttempts}) in ${Math.round(event.delayMs / 100) / 10} s: ${event.error.message}`,
          at,
        });
        return;
      case "warning":
        this.#put({ type: "notice", key: `seq:${seq}`, level: "warning", message: event.message, at });
        return;
      case "subAgent/item": {
        const before = this.#subAgentItems[event.childThreadId] ?? [];
        this.#subAgentItems = { ...this.#subAgentItems, [event.childThreadId]: [...before, event.item] };
        return;
      }
      case "subAgent/turnCompleted":
        // The sub-agent's own item (type `subAgent`) completes with its result.
        return;
      default:
        assertNever(event);
    }
  }

  #turnCompleted(
    envelope: EventEnvelope,
    event: Extract<EventEnvelope["event"], { type: "turn/completed" }>,
  ) {
    this.#put({
      type: "turn",
      key: `turn:${event.turnId}`,
      turnId: event.turnId,
      status: event.status,
      startedAt: this.#state.turnStartedAt[event.turnId] ?? envelope.at,
      completedAt: envelope.at,
      usage: event.usage,
      error: event.error,
    });
    // Items the turn left open (an interrupted message, an unanswered approval) stop "running".
    this.#entries.forEach((entry, i) => {
      if (entry.type === "item" && entry.state === "streaming" && entry.turnId === event.turnId) {
        this.#entries[i] = { ...entry, state: "abandoned" };
      }
    });
    this.#completedTurnsUsage = addUsage(this.#completedTurnsUsage, event.usage);
    const usage: TimelineUsage = {
      turn: event.usage,
      thread: this.#completedTurnsUsage,
      turnUsd: this.#state.usage?.turnUsd,
      threadUsd: this.#state.usage?.threadUsd,
    };
    const running = this.#state.runningTurnId === event.turnId ? undefined : this.#state.runningTurnId;
    this.#state = { ...this.#state, usage, runningTurnId: running };
  }

  #itemChanged(envelope: EventEnvelope, item: ThreadItem, completed: boolean): void {
    const entry = this.#item(item.id);
    if (entry?.state === "completed") return;
    this.#put({
      type: "item",
      key: item.id,
      item,
      state: completed ? "completed" : "streaming",
      turnId: entry?.turnId ?? envelope.turnId,
      startedAt: entry?.startedAt ?? envelope.at,
      completedAt: completed ? envelope.at : undefined,
    });
  }

  #textDelta(envelope: EventEnvelope, itemId: string, delta: string, type: "agentMessage" | "reasoning") {
    const entry = this.#item(itemId);
    if (entry === undefined) {
      // A delta whose item/started came before the resume point: start the item from here.
      this.#put({
        type: "item",
        key: itemId,
        item: { id: itemId, type, text: delta },
        state: "streaming",
        turnId: envelope.turnId,
        startedAt: envelope.at,
        completedAt: undefined,
      });
      return;
    }
    if (entry.state !== "streaming" || entry.item.type !== type) return;
    this.#put({ ...entry, item: { ...entry.item, text: entry.item.text + delta } });
  }

  #item(id: string): Extract<TimelineEntry, { type: "item" }> | undefined {
    const entry = this.#get(id);
    return entry?.type === "item" ? entry : undefined;
  }

  #get(key: string): TimelineEntry | undefined {
    const i = this.#index.get(key);
    return i === undefined ? undefined : this.#entries[i];
  }

  #put(entry: TimelineEntry): void {
    const i = this.#index.get(entry.key);
    if (i !== undefined) {
      this.#entries[i] = entry;
      return;
    }
    this.#index.set(entry.key, this.#entries.length);
    this.#entries.push(entry);
  }

  #removeWhere(test: (entry: TimelineEntry) => boolean): void {
    const kept = this.#entries.filter((entry) => !test(entry));
    if (kept.length === this.#entries.length) return;
    this.#entries.length = 0;
    this.#index.clear();
    for (const entry of kept) this.#put(entry);
  }
}

function isModelText(item: ThreadItem): boolean {
  return item.type === "agentMessage" || item.type === "reasoning";
}

/** The usage of the turns that already ended (the thread total minus the running turn's). */
function completedTurnsUsage(state: TimelineState): Usage {
  let total = emptyUsage();
  for (const entry of state.entries) {
    if (entry.type === "turn" && entry.usage !== undefined) total = addUsage(total, entry.usage);
  }
  return total;
}

/** The approvals still waiting for a decision. */
export function pendingApprovals(state: TimelineState): Extract<ThreadItem, { type: "approval" }>[] {
  const pending: Extract<ThreadItem, { type: "approval" }>[] = [];
  for (const entry of state.entries) {
    if (entry.type === "item" && entry.state === "streaming" && entry.item.type === "approval") {
      if (entry.item.decision === "pending") pending.push(entry.item);
    }
  }
  return pending;
}
