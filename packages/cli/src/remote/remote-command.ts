// The process boundary of every remote command: `--help`, usage errors (exit 2, with the usage), and
// errors from the server or the network as one line saying what to do (exit 1). A refused sign-in
// (no credentials, an expired session, a revoked token) always ends with "run `kiln login …`".
import { KilnError } from "@kiln/protocol";
import { KilnApiError, KilnLoginRequiredError } from "@kiln/sdk";
import pc from "picocolors";
import { UsageError } from "../exec/parse-exec-args.ts";
import type { CliIo } from "../exec/run-exec.ts";
import { connectServer, NotLoggedInError, type ServerConnection } from "./connect-server.ts";

/** picocolors' functions (colors only when the stream is a terminal and NO_COLOR is unset). */
export type Colors = ReturnType<typeof pc.createColors>;

/** What a remote command's body gets. */
export interface RemoteSession {
  io: CliIo;
  /** Colors for stdout. */
  colors: Colors;
  /** Connects to the server (`--server`, KILN_SERVER or the saved one) with the saved credentials. */
  connect(serverFlag?: string): Promise<ServerConnection>;
}

/** Colors for `stream`: on only for a terminal, and never with NO_COLOR. */
export function colorsFor(stream: NodeJS.WriteStream, env: Record<string, string | undefined>): Colors {
  return pc.createColors(stream.isTTY === true && (env.NO_COLOR ?? "") === "");
}

/**
 * Runs `body` as the command `name` (e.g. "kiln tasks list"): prints `usage` for `--help`/`-h`, and
 * turns what it throws into a message and an exit code (2 for usage errors, 1 for the rest).
 */
export async function runRemoteCommand(
  io: CliIo,
  name: string,
  usage: string,
  body: (session: RemoteSession) => Promise<number>,
): Promise<number> {
  // Only before `--`: what follows is a command for the sandbox (`-- ls --help`).
  const end = io.argv.indexOf("--");
  const own = end === -1 ? io.argv : io.argv.slice(0, end);
  if (own.includes("--help") || own.includes("-h")) {
    io.stdout.write(`${usage}\n`);
    return 0;
  }
  let server: string | undefined;
  const session: RemoteSession = {
    io,
    colors: colorsFor(io.stdout, io.env),
    async connect(serverFlag) {
      const connection = await connectServer(io.env, serverFlag);
      server = connection.server;
      return connection;
    },
  };
  try {
    return await body(session);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`${name}: ${error.message}\n\n${usage}\n`);
      return 2;
    }
    const message = describeError(error, server);
    if (message === undefined) throw error;
    io.stderr.write(`kiln: ${message}\n`);
    return 1;
  }
}

/** One line for a person, or undefined for an error that is not Kiln's (a bug: main prints it). */
export function describeError(error: unknown, server: string | undefined): string | undefined {
  const login = `run \`kiln login --server ${server ?? "URL"}\``;
  if (error instanceof NotLoggedInError) return error.message;
  if (error instanceof KilnLoginRequiredError) {
    return `your session with ${server ?? "the server"} has expired or was revoked: ${login}`;
  }
  if (error instanceof KilnApiError && error.status === 401) {
    return `${server ?? "the server"} refused your credentials (${error.message.replace(/\.$/, "")}): ${login}`;
  }
  if (error instanceof KilnError) return error.message;
  return undefined;
}
