// `kiln sandbox shell`: an interactive shell in a sandbox over the terminal WebSocket. Sequence: mint a
// capability token for the sandbox and get the terminal's URL (the SDK's `terminalUrl`, so that the
// user's own token never goes into a URL) → connect with our terminal's size → put our terminal in raw
// mode (keys, Ctrl-C included, go to the remote shell) → forward keys and resizes, print output → when
// the shell exits, restore the terminal and exit with its code. Without a terminal (stdin piped) the
// input is sent as it comes and its end is sent as Ctrl-D, so that a piped script ends the shell.
import { constants } from "node:os";
import { KilnError, type TerminalClientMessage, TerminalServerMessage } from "@kiln/protocol";
import { WebSocket } from "ws";
import type { CliIo } from "../exec/run-exec.ts";
import { CLI_USER_AGENT } from "./connect-server.ts";
import { parseCommandArgs, singlePositional } from "./parse-remote-args.ts";
import { runRemoteCommand } from "./remote-command.ts";

/** `kiln sandbox shell --help`. */
export const SANDBOX_SHELL_HELP = `Usage: kiln sandbox shell TASK_OR_SANDBOX_ID

Opens an interactive shell (bash) in a sandbox (a task id means its first attempt's sandbox). Exit the
shell (exit, or Ctrl-D) to come back; kiln exits with the shell's exit code.

Options:
  --server URL      The server (default: $KILN_SERVER, else the one you logged in to)
  -h, --help        Show this help`;

/** Runs `kiln sandbox shell`; resolves to the shell's exit code. */
export function runSandboxShell(io: CliIo): Promise<number> {
  return runRemoteCommand(io, "kiln sandbox shell", SANDBOX_SHELL_HELP, async ({ connect }) => {
    const { values, positionals } = parseCommandArgs({
      args: io.argv,
      options: {
        server: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: true,
    });
    const id = singlePositional(positionals, "task or sandbox id");
    const { client } = await connect(values.server);
    const url = new URL(await client.sandboxes.terminalUrl(id));
    const size = terminalSize(io.stdout);
    url.searchParams.set("cols", String(size.cols));
    url.searchParams.set("rows", String(size.rows));
    const ws = await openSocket(url.toString());
    return runTerminal(io, ws);
  });
}

function terminalSize(out: NodeJS.WriteStream): { cols: number; rows: number } {
  return out.isTTY === true ? { cols: out.columns || 80, rows: out.rows || 24 } : { cols: 80, rows: 24 };
}

function openSocket(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { "user-agent": CLI_USER_AGENT } });
    const where = url.replace(/\?.*$/, "");
    ws.once("open", () => resolve(ws));
    ws.once("unexpected-response", (_request, response) => {
      ws.terminate();
      reject(
        new KilnError(
          "internal",
          `the server refused the terminal connection to ${where} (HTTP ${response.statusCode})`,
        ),
      );
    });
    ws.once("error", (error) =>
      reject(new KilnError("internal", `could not open the terminal at ${where}: ${error.message}`)),
    );
  });
}

/** Bridges our stdin/stdout and the socket until the shell exits; resolves with its exit code. */
function runTerminal(io: CliIo, ws: WebSocket): Promise<number> {
  const { stdin, stdout } = io;
  const raw = stdin.isTTY === true;
  const send = (message: TerminalClientMessage) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
  };
  const onInput = (data: string) => send({ type: "input", data });
  // Ctrl-D at the start of a line is end-of-input to the remote shell, as the end of a pipe is here.
  const onEnd = () => send({ type: "input", data: "\u0004" });
  const onResize = () => send({ type: "resize", ...terminalSize(stdout) });
  if (raw) stdin.setRawMode(true);
  stdin.setEncoding("utf8");
  stdin.on("data", onInput);
  stdin.on("end", onEnd);
  stdin.resume();
  stdout.on("resize", onResize);

  let exit: number | undefined;
  let failure: string | undefined;
  ws.on("message", (data, isBinary) => {
    if (isBinary) return;
    const parsed = TerminalServerMessage.safeParse(safeJson(data.toString()));
    if (!parsed.success) return;
    const message = parsed.data;
    if (message.type === "output") stdout.write(message.data);
    else if (message.type === "exit") exit = exitCode(message.exitCode, message.signal);
    else failure = message.error.message;
  });
  return new Promise<number>((resolve, reject) => {
    ws.once("error", (error) => {
      failure ??= error.message;
    });
    ws.once("close", () => {
      stdin.off("data", onInput);
      stdin.off("end", onEnd);
      stdout.off("resize", onResize);
      if (raw) stdin.setRawMode(false);
      stdin.pause();
      if (exit !== undefined) resolve(exit);
      else
        reject(
          new KilnError(
            "internal",
            `the terminal closed before the shell exited${failure === undefined ? "" : `: ${failure}`}`,
          ),
        );
    });
  });
}

function exitCode(code: number | null, signal: string | null): number {
  if (code !== null) return code;
  const n = signal === null ? undefined : constants.signals[signal as NodeJS.Signals];
  return n === undefined ? 1 : 128 + n;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
