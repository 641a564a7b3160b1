// The `kiln` command: dispatches to its subcommands. This is the CLI's process boundary: errors that
// reach it are printed as one line (a stack only with KILN_DEBUG=1).
import { setFlagsFromString } from "node:v8";
import { KilnError } from "@kiln/protocol";
import type { CliIo } from "./exec/run-exec.ts";

const HELP = `kiln — a self-hostable platform for autonomous coding agents

Usage:
  kiln exec [OPTIONS] [PROMPT | -]      Run the agent headless on a prompt (see kiln exec --help)
  kiln exec resume <THREAD_ID> [PROMPT] Continue a thread (or --last)
  kiln serve [--port N] [--host ADDR]   Run the multi-user server (see kiln serve --help)
  kiln doctor [--json]                  Check what works on this machine
  kiln mcp-server                       Serve Kiln as an MCP server on stdio (tools kiln, kiln-reply)
  kiln worker --restate-admin URL --db postgres://…   Run turns for Restate (scale-out; see docs/scale.md)
  kiln login [--server URL]             Sign in to a Kiln server (saves the tokens)
  kiln tasks create|list|show|watch|diff|apply   Tasks on a Kiln server (see kiln tasks --help)
  kiln sandbox exec|shell               Run a command or a shell in a task's sandbox
  kiln --version

Configuration: $KILN_HOME/config.toml (default ~/.kiln), the repository's .kiln/config.toml,
--profile NAME, -c key=value.`;

const VERSION = "0.1.0";

async function main(): Promise<number> {
  // Node's fetch parses HTTP with a WebAssembly module; V8's optimizing wasm compiler costs ~25 MiB and
  // a wait at exit for a CLI that makes a few dozen requests. The baseline compiler is plenty here.
  setFlagsFromString("--liftoff-only");
  const [command, ...rest] = process.argv.slice(2);
  const io: CliIo = {
    argv: rest,
    env: process.env,
    cwd: process.cwd(),
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
  };
  // Each command is loaded when it runs (the bundle is split): `kiln exec` never loads the server.
  switch (command) {
    case "exec":
    case "e":
      return (await import("./exec/run-exec.ts")).runExec(io);
    case "doctor":
      return (await import("./doctor.ts")).runDoctor(io);
    case "mcp-server":
      return (await import("./mcp-server/run-mcp-server.ts")).runMcpServer(io);
    case "serve":
      return (await import("./serve/run-serve.ts")).runServe(io);
    case "worker":
      return (await import("./worker/run-worker.ts")).runWorker(io);
    case "login":
      return (await import("./remote/run-login.ts")).runLogin(io);
    case "tasks":
      return (await import("./remote/run-tasks.ts")).runTasks(io);
    case "sandbox":
      return (await import("./remote/run-sandbox.ts")).runSandbox(io);
    case "--version":
    case "-V":
      process.stdout.write(`kiln ${VERSION}\n`);
      return 0;
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(`${HELP}\n`);
      return 0;
    default:
      process.stderr.write(`kiln: unknown command "${command}"\n\n${HELP}\n`);
      return 2;
  }
}

main().then(
  (code) => {
    process.exitCode = code;
    // Background sandboxes die with us (--die-with-parent); do not wait for stray handles.
    setImmediate(() => process.exit(code));
  },
  (error: unknown) => {
    if (process.env.KILN_DEBUG === "1") console.error(error);
    const message = error instanceof KilnError || error instanceof Error ? error.message : String(error);
    process.stderr.write(`kiln: ${message}\n`);
    process.exit(1);
  },
);
