// A chat thread backed by a live agent (seed 003): the header with the thread's configuration, the
// conversation rendered by the shared EventTimeline (commands and diffs as structured cards,
// approvals answered inline), and the composer. A message starts a turn; while one runs, a message
// steers it and Stop interrupts it. The view keeps to the bottom as events arrive, unless the person
// has scrolled up to read.
import "./threads.css";
import type { ApprovalDecisionInput, ApprovalItem } from "@kiln/protocol";
import type { KilnClient } from "@kiln/sdk";
import { useCallback, useEffect, useRef } from "react";
import { EventTimeline, pendingApprovals, type StreamStatus } from "../../events/index.ts";
import { ChatComposer } from "./chat-composer.tsx";
import { ThreadHeader } from "./thread-header.tsx";
import { useThreadChat } from "./use-thread-chat.ts";

/** Props of {@link ThreadChatView}. */
export interface ThreadChatViewProps {
  client: KilnClient;
  threadId: string;
}

/** The chat view of one thread. */
export function ThreadChatView({ client, threadId }: ThreadChatViewProps) {
  const { thread, loadError, events } = useThreadChat(client, threadId);
  const { timeline, status, error: streamError, retry } = events;
  const running = timeline.runningTurnId !== undefined;
  const waiting = pendingApprovals(timeline).length;
  const atBottom = useRef(true);
  const end = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const onScroll = () => {
      const scroller = document.scrollingElement ?? document.documentElement;
      atBottom.current = scroller.scrollHeight - scroller.scrollTop - window.innerHeight < 160;
    };
    window.addEventListener("scroll", onScroll, { passive: true });
    return () => window.removeEventListener("scroll", onScroll);
  }, []);

  // A new or longer entry: follow it if the person was at the bottom.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs whenever the timeline changes
  useEffect(() => {
    if (atBottom.current) end.current?.scrollIntoView?.({ block: "end" });
  }, [timeline]);

  const send = useCallback(
    async (text: string) => {
      atBottom.current = true;
      if (running) await client.threads.steer(threadId, text);
      else await client.threads.startTurn(threadId, { input: text });
    },
    [client, threadId, running],
  );
  const stop = useCallback(async () => {
    await client.threads.interrupt(threadId);
  }, [client, threadId]);
  const decide = useCallback(
    (approval: ApprovalItem, decision: ApprovalDecisionInput) =>
      client.approvals.respond(approval.id, decision),
    [client],
  );

  if (loadError !== undefined && thread === undefined) {
    return (
      <p role="alert" className="error">
        {`Could not open this thread: ${loadError}`}
      </p>
    );
  }

  return (
    <div className="page thread-chat">
      {thread === undefined ? (
        <p className="muted">Loading the thread…</p>
      ) : (
        <ThreadHeader
          client={client}
          thread={thread}
          usage={timeline.usage}
          stream={shownStatus(status, timeline.lastSeq, thread.lastSeq)}
        />
      )}
      {status === "failed" && (
        <div role="alert" className="error button-row">
          <span>{`The live stream stopped: ${streamError ?? "unknown error"}.`}</span>
          <button type="button" onClick={retry}>
            Reconnect
          </button>
        </div>
      )}
      {timeline.entries.length === 0 && status === "live" && !running && (
        <p className="muted">No messages yet: ask the agent something below.</p>
      )}
      <EventTimeline timeline={timeline} onApprovalDecision={decide} label="Conversation" />
      <div ref={end} />
      <div className="thread-composer-dock">
        {waiting > 0 && (
          <p role="status" className="notice notice-warning">
            {waiting === 1
              ? "The agent is waiting for your decision on the approval above."
              : `The agent is waiting for your decision on ${waiting} approvals above.`}
          </p>
        )}
        <ChatComposer running={running} onSend={send} onStop={stop} disabled={thread === undefined} />
      </div>
    </div>
  );
}

/**
 * The stream's status as the header shows it. The shared hook says "live" from the first event on; a
 * thread with no new events yet sends none, so a stream that has caught up with the seq the thread
 * had when it was fetched counts as live too (rather than "Connecting…" forever on an empty thread).
 */
export function shownStatus(status: StreamStatus, foldedSeq: number, threadSeq: number): StreamStatus {
  return status === "connecting" && foldedSeq >= threadSeq ? "live" : status;
}
