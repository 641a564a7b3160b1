// One terminal session over the sandbox's WebSocket: the URL (with a capability token minted by the
// SDK, and the starting size), the JSON messages both ways, and what the page should show. Kept apart
// from React and xterm so that the protocol handling is plain code.
import { assertNever, type TerminalClientMessage, TerminalServerMessage } from "@kiln/protocol";
import type { KilnClient } from "@kiln/sdk";

/** Where a session is. */
export type TerminalPhase =
  | { type: "connecting" }
  | { type: "open" }
  | { type: "exited"; exitCode: number | null; signal: string | null }
  | { type: "closed"; reason: string };

/** What a session reports. */
export interface TerminalSessionHandlers {
  /** Output to write to the screen. */
  onOutput: (data: string) => void;
  onPhase: (phase: TerminalPhase) => void;
}

/** A live session: send keystrokes and sizes, close it. */
export interface TerminalSession {
  input(data: string): void;
  resize(cols: number, rows: number): void;
  close(): void;
}

/** The terminal WebSocket's URL for a sandbox, asking for a `cols`×`rows` screen. */
export async function terminalSocketUrl(
  client: KilnClient,
  sandboxId: string,
  size: { cols: number; rows: number },
  signal?: AbortSignal,
): Promise<string> {
  const url = new URL(await client.sandboxes.terminalUrl(sandboxId, signal === undefined ? {} : { signal }));
  url.searchParams.set("cols", String(size.cols));
  url.searchParams.set("rows", String(size.rows));
  return url.toString();
}

/** Opens a session on `url`; handlers hear its output and phases until it closes. */
export function openTerminalSession(url: string, handlers: TerminalSessionHandlers): TerminalSession {
  const socket = new WebSocket(url);
  let ended = false;
  const send = (message: TerminalClientMessage) => {
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  };
  handlers.onPhase({ type: "connecting" });
  socket.addEventListener("open", () => handlers.onPhase({ type: "open" }));
  socket.addEventListener("message", (event) => {
    const message = parseServerMessage(event.data);
    if (message === undefined) return;
    switch (message.type) {
      case "output":
        handlers.onOutput(message.data);
        return;
      case "exit":
        ended = true;
        handlers.onPhase({ type: "exited", exitCode: message.exitCode, signal: message.signal });
        return;
      case "error":
        ended = true;
        handlers.onPhase({ type: "closed", reason: message.error.message });
        return;
      default:
        assertNever(message);
    }
  });
  socket.addEventListener("close", (event) => {
    if (ended) return;
    ended = true;
    // 1006: the connection broke (server gone, network dropped, token refused at the upgrade).
    const reason =
      event.reason !== ""
        ? event.reason
        : event.code === 1006
          ? "the connection was lost"
          : `closed (${event.code})`;
    handlers.onPhase({ type: "closed", reason });
  });
  return {
    input: (data) => send({ type: "input", data }),
    resize: (cols, rows) => send({ type: "resize", cols, rows }),
    close: () => {
      ended = true;
      socket.close(1000, "closed by the user");
    },
  };
}

/** A server message, or undefined for anything that is not one (ignored: the protocol may grow). */
export function parseServerMessage(data: unknown): TerminalServerMessage | undefined {
  if (typeof data !== "string") return undefined;
  try {
    const parsed = TerminalServerMessage.safeParse(JSON.parse(data));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The line the page shows for a phase. */
export function describePhase(phase: TerminalPhase): string {
  switch (phase.type) {
    case "connecting":
      return "Connecting…";
    case "open":
      return "Connected";
    case "exited":
      return phase.signal !== null
        ? `The shell was stopped by ${phase.signal}.`
        : `The shell exited with code ${phase.exitCode ?? "unknown"}.`;
    case "closed":
      return `Disconnected: ${phase.reason}.`;
    default:
      return assertNever(phase);
  }
}
