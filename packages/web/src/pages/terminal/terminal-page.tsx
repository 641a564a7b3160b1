// Route `/terminal/:sandboxId`: a shell in a sandbox (loaded on demand: xterm.js is only needed here).
import { useClient } from "../../app-context.tsx";
import type { PageProps } from "../../routes.tsx";
import { useDarkTheme } from "../files/use-dark-theme.ts";
import { SandboxLinks } from "./sandbox-links.tsx";
import { TerminalView } from "./terminal-view.tsx";

/** The terminal page of sandbox `params.sandboxId`. */
export function TerminalPage({ params }: PageProps) {
  const sandboxId = params.sandboxId ?? "";
  const dark = useDarkTheme();
  return (
    <div className="page terminal-page">
      <div className="page-header">
        <h1>Terminal</h1>
        <SandboxLinks sandboxId={sandboxId} exclude="terminal" />
      </div>
      <p className="muted">
        Sandbox <code>{sandboxId}</code>: the shell runs inside it, in its workspace.
      </p>
      <TerminalView key={sandboxId} client={useClient()} sandboxId={sandboxId} dark={dark} />
    </div>
  );
}
