// The chat's header: the thread's title and the configuration it was created with (seed 003: where
// the agent works, model, sandbox, approval policy), which the server keeps on the thread; its token
// usage and cost so far; and whether the live stream is connected.
import type { ThreadResource } from "@kiln/protocol";
import type { KilnClient } from "@kiln/sdk";
import { useEffect, useState } from "react";
import { type StreamStatus, type TimelineUsage, UsageBadge } from "../../events/index.ts";
import { APPROVAL_LABELS, SANDBOX_LABELS } from "./thread-config.ts";

/** Props of {@link ThreadHeader}. */
export interface ThreadHeaderProps {
  client: KilnClient;
  thread: ThreadResource;
  usage: TimelineUsage | undefined;
  stream: StreamStatus;
}

/**
 * The environment a thread was made from, read from its workspace path
 * (`<dataDir>/env-threads/<env id>/<thread>`): ThreadInfo has no environment field.
 */
export function environmentIdOfCwd(cwd: string): string | undefined {
  return /\/env-threads\/(env_[A-Za-z0-9]+)\//.exec(cwd)?.[1];
}

const STREAM_TEXT: Record<StreamStatus, string> = {
  idle: "",
  connecting: "Connecting…",
  live: "Live",
  failed: "Disconnected",
};

/** The chat header. */
export function ThreadHeader({ client, thread, usage, stream }: ThreadHeaderProps) {
  const { info } = thread;
  const environmentId = environmentIdOfCwd(info.cwd);
  const [environmentName, setEnvironmentName] = useState<string>();

  useEffect(() => {
    if (environmentId === undefined) return;
    const abort = new AbortController();
    client.environments.get(environmentId, { signal: abort.signal }).then(
      (env) => setEnvironmentName(env.name),
      // A deleted environment still names the thread's origin by its id.
      () => setEnvironmentName(undefined),
    );
    return () => abort.abort();
  }, [client, environmentId]);

  return (
    <header className="thread-header">
      <div className="thread-title-row">
        <h1>{thread.title === "" ? "New thread" : thread.title}</h1>
        {usage !== undefined && (
          <UsageBadge usage={usage.thread} costUsd={usage.threadUsd} label="Thread usage" />
        )}
        <span className={`stream-status stream-${stream}`} role="status">
          {STREAM_TEXT[stream]}
        </span>
      </div>
      <dl className="thread-config" aria-label="Thread configuration">
        {environmentId !== undefined && (
          <div>
            <dt>Environment</dt>
            <dd>{environmentName ?? environmentId}</dd>
          </div>
        )}
        <div>
          <dt>Working directory</dt>
          <dd>
            <code>{info.cwd}</code>
          </dd>
        </div>
        <div>
          <dt>Model</dt>
          <dd>{`${info.model} (${info.modelProvider})`}</dd>
        </div>
        <div>
          <dt>Sandbox</dt>
          <dd>{SANDBOX_LABELS[info.sandbox]}</dd>
        </div>
        <div>
          <dt>Approvals</dt>
          <dd>{APPROVAL_LABELS[info.approvalPolicy]}</dd>
        </div>
      </dl>
    </header>
  );
}
