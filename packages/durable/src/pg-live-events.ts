// Events from workers to every API node through PostgreSQL: a worker's event sink sends
// `NOTIFY kiln_events, '{"u","t","f","l"}'` (user, thread, first and last seq of a stored batch) and
// each API node LISTENs and hands the change to its store relay, which reads the event table and
// publishes into the node's hub. NOTIFY is a hint, the table is the truth: a lost notification (the
// LISTEN connection dropped) is made up by a poll of every followed thread after reconnecting, and
// when LISTEN cannot be had at all the source polls the followed threads (`pollMs`).

import type { KilnStore } from "@kiln/store";
import pg from "pg";
import type { EventNotifier } from "./store-event-sink.ts";

/** The channel workers notify on. */
export const EVENTS_CHANNEL = "kiln_events";

interface Change {
  userId: string;
  threadId: string;
  firstSeq?: number;
  lastSeq?: number;
}

/** Sends a NOTIFY per stored batch over a small pool. */
export function createPgEventNotifier(url: string): EventNotifier {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on("error", () => undefined);
  return {
    async notify({ userId, threadId, firstSeq, lastSeq }) {
      const payload = JSON.stringify({ u: userId, t: threadId, f: firstSeq, l: lastSeq });
      await pool.query("SELECT pg_notify($1, $2)", [EVENTS_CHANNEL, payload]);
    },
    close: () => pool.end(),
  };
}

/** What the live source needs (the relay and the hub's followed threads come from @kiln/server). */
export interface PgLiveEventsOptions {
  url: string;
  store: KilnStore;
  relay: { notify(change: Change): Promise<void> };
  /** The threads someone on this node follows now. */
  followed: () => string[];
  /** How often followed threads are polled without LISTEN (default 250 ms). */
  pollMs?: number;
  /** Told when LISTEN is lost or cannot be had (the source polls meanwhile). */
  onDegraded?: (error: unknown) => void;
}

/** A running live source. */
export interface PgLiveEvents {
  /** Whether LISTEN is up (otherwise the source polls). */
  readonly listening: boolean;
  close(): Promise<void>;
}

/** Starts listening (or polling, when LISTEN fails) and feeds the relay. */
export async function startPgLiveEvents(o: PgLiveEventsOptions): Promise<PgLiveEvents> {
  let client: pg.Client | undefined;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  const owners = new Map<string, string>();

  /** Polls every followed thread whose owner is known (threads with an unfinished turn). */
  const poll = async () => {
    const followed = new Set(o.followed());
    if (followed.size === 0) return;
    for (const turn of await o.store.turns.listUnfinished()) owners.set(turn.threadId, turn.userId);
    await Promise.all(
      [...followed].flatMap((threadId) => {
        const userId = owners.get(threadId);
        return userId === undefined ? [] : [o.relay.notify({ userId, threadId })];
      }),
    );
  };
  const schedule = () => {
    if (closed || client !== undefined) return;
    timer = setTimeout(() => {
      void poll()
        .catch((error: unknown) => o.onDegraded?.(error))
        .finally(schedule);
    }, o.pollMs ?? 250);
  };
  const listen = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: o.url });
    next.on("notification", (message) => {
      const change = parseChange(message.payload);
      if (change === undefined) return;
      owners.set(change.threadId, change.userId);
      void o.relay.notify(change).catch((error: unknown) => o.onDegraded?.(error));
    });
    // The connection ended (PostgreSQL restarted, a proxy dropped it): poll until LISTEN is back.
    const lost = (error: unknown) => {
      if (client !== next) return;
      client = undefined;
      o.onDegraded?.(error);
      void next.end().catch(() => undefined);
      schedule();
      setTimeout(() => void reconnect(), 1_000);
    };
    next.on("error", lost);
    next.on("end", () => lost(new Error("the LISTEN connection to PostgreSQL ended")));
    await next.connect();
    await next.query(`LISTEN ${EVENTS_CHANNEL}`);
    client = next;
    clearTimeout(timer);
    // What was stored while nobody listened.
    await poll().catch((error: unknown) => o.onDegraded?.(error));
  };
  const reconnect = async () => {
    if (closed || client !== undefined) return;
    try {
      await listen();
    } catch (error) {
      o.onDegraded?.(error);
      setTimeout(() => void reconnect(), 1_000);
    }
  };
  try {
    await listen();
  } catch (error) {
    o.onDegraded?.(error);
    schedule();
    setTimeout(() => void reconnect(), 1_000);
  }
  return {
    get listening() {
      return client !== undefined;
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      const current = client;
      client = undefined;
      await current?.end().catch(() => undefined);
    },
  };
}

function parseChange(payload: string | undefined): Change | undefined {
  try {
    const raw = JSON.parse(payload ?? "") as { u?: unknown; t?: unknown; f?: unknown; l?: unknown };
    if (typeof raw.u !== "string" || typeof raw.t !== "string") return undefined;
    return {
      userId: raw.u,
      threadId: raw.t,
      ...(typeof raw.f === "number" ? { firstSeq: raw.f } : {}),
      ...(typeof raw.l === "number" ? { lastSeq: raw.l } : {}),
    };
  } catch {
    return undefined;
  }
}
