// `kiln login`: signs in to a Kiln server and saves the sign-in to $KILN_HOME/credentials.json.
// Sequence: choose the server (--server, KILN_SERVER, the saved one) → either check an API token with
// `GET /auth/me` and save it, or get the username and password (flags, a terminal prompt without echo,
// or --password-stdin) and log in through the SDK's TokenManager, whose storage is the credentials file
// (so this login, and every later refresh, is saved there).
import { KilnError } from "@kiln/protocol";
import { KilnApiError, KilnClient, TokenManager } from "@kiln/sdk";
import { UsageError } from "../exec/parse-exec-args.ts";
import type { CliIo } from "../exec/run-exec.ts";
import { CLI_USER_AGENT, chooseServer } from "./connect-server.ts";
import { credentialsPath, fileTokenStorage, readCredentials, writeCredentials } from "./credentials-store.ts";
import { parseCommandArgs } from "./parse-remote-args.ts";
import { promptLine, promptSecret, readSecretFromStdin } from "./prompt-input.ts";
import { runRemoteCommand } from "./remote-command.ts";

const LOGIN_HELP = `Usage: kiln login [--server URL] [--username U] [--password-stdin | --token PAT]

Signs in to a Kiln server and saves the sign-in to $KILN_HOME/credentials.json (mode 0600; KILN_HOME
defaults to ~/.kiln). Later commands (kiln tasks, kiln sandbox) use it without flags.

Options:
  --server URL       The server (default: $KILN_SERVER, else the server you last logged in to)
  --username U       Your username (asked on the terminal when missing)
  --password-stdin   Read the password from stdin instead of asking for it
  --token PAT        Use a personal API token instead of a password ("-" reads it from stdin)
  -h, --help         Show this help`;

/** Runs `kiln login`; resolves to the exit code. */
export function runLogin(io: CliIo): Promise<number> {
  return runRemoteCommand(io, "kiln login", LOGIN_HELP, async () => {
    const { values, positionals } = parseCommandArgs({
      args: io.argv,
      options: {
        server: { type: "string" },
        username: { type: "string" },
        "password-stdin": { type: "boolean" },
        token: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: true,
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    if (values.token !== undefined && (values["password-stdin"] === true || values.username !== undefined)) {
      throw new UsageError("--token signs in without a username or password: give one or the other");
    }
    const path = credentialsPath(io.env);
    // A damaged credentials file only loses its saved server here: this login replaces it.
    const saved = await readCredentials(path).catch(() => undefined);
    const server = chooseServer(values.server, io.env, saved?.server);
    if (server === undefined) throw new UsageError("which server? Give --server URL (or set KILN_SERVER)");

    if (values.token !== undefined) {
      const token = values.token === "-" ? await readSecretFromStdin(io.stdin) : values.token;
      if (token === "") throw new UsageError("the token is empty");
      const client = new KilnClient({ baseUrl: server, token, userAgent: CLI_USER_AGENT });
      const me = await client.me().catch((error: unknown) => refused(error, server, "this API token"));
      await writeCredentials(path, { server, token });
      io.stdout.write(`Logged in to ${server} as ${me.user.username} (API token).\n`);
      return 0;
    }

    const username = values.username ?? (await askUsername(io, values["password-stdin"] === true));
    const password = await readPassword(io, values["password-stdin"] === true);
    // Saved through the credentials file; nothing is loaded from it: this login replaces what is there
    // (even a damaged file).
    const { save } = fileTokenStorage(path, server);
    const tokens = new TokenManager({
      baseUrl: server,
      storage: { load: () => undefined, save },
      userAgent: CLI_USER_AGENT,
    });
    const { user } = await tokens
      .login(username, password)
      .catch((error: unknown) => refused(error, server, "the username or password"));
    io.stdout.write(`Logged in to ${server} as ${user.username}.\n`);
    return 0;
  });
}

async function askUsername(io: CliIo, passwordOnStdin: boolean): Promise<string> {
  if (passwordOnStdin || io.stdin.isTTY !== true) {
    throw new UsageError("give --username (there is no terminal to ask on)");
  }
  const name = (await promptLine(io.stdin, io.stderr, "Username: ")).trim();
  if (name === "") throw new UsageError("the username is empty");
  return name;
}

async function readPassword(io: CliIo, fromStdin: boolean): Promise<string> {
  if (!fromStdin && io.stdin.isTTY !== true) {
    throw new UsageError("there is no terminal to ask for the password on: pipe it in with --password-stdin");
  }
  const password = fromStdin
    ? await readSecretFromStdin(io.stdin)
    : await promptSecret(io.stdin, io.stderr, "Password: ");
  if (password === "") throw new UsageError(fromStdin ? "no password on stdin" : "the password is empty");
  return password;
}

/** A 401 during login is the user's input being wrong, not a session to renew: say so plainly. */
function refused(error: unknown, server: string, what: string): never {
  if (error instanceof KilnApiError && error.status === 401) {
    throw new KilnError("unauthorized", `${server} refused ${what}: ${error.message}`);
  }
  throw error;
}
