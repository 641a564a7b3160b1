// `kiln mcp-server`: Kiln as an MCP server over stdio (stdout is the protocol; diagnostics go to
// stderr). Serve `kiln` and `kiln-reply` until the client closes stdin → interrupt running turns →
// wait for them to close their threads → exit 0.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { CliIo } from "../exec/run-exec.ts";
import { registerKilnTools } from "./kiln-tools.ts";

const VERSION = "0.1.0";

const HELP = `Usage: kiln mcp-server

Runs Kiln as an MCP server on stdin/stdout, with two tools:
  kiln        {prompt, cwd?, model?, sandbox?, approval-policy?, profile?, config?} → a new session
  kiln-reply  {threadId, prompt} → the next turn of a session
Approval requests are declined (nobody can answer). Logs go to stderr.

Example client configuration (Codex, Claude, …): command = "kiln", args = ["mcp-server"]`;

/** Runs the MCP server until stdin closes; resolves to the exit code. */
export async function runMcpServer(io: CliIo): Promise<number> {
  if (io.argv.includes("--help") || io.argv.includes("-h")) {
    io.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (io.argv.length > 0) {
    io.stderr.write(`kiln mcp-server: unexpected argument "${io.argv[0]}"\n\n${HELP}\n`);
    return 2;
  }
  const log = (message: string) => io.stderr.write(`${message}\n`);
  const shutdown = new AbortController();
  const server = new McpServer(
    { name: "kiln", title: "Kiln", version: VERSION },
    { capabilities: { logging: {} } },
  );
  const tools = registerKilnTools(server, { env: io.env, cwd: io.cwd, log, shutdown: shutdown.signal });
  await server.connect(new StdioServerTransport(io.stdin, io.stdout));
  log("kiln mcp-server: ready on stdio");

  await new Promise<void>((resolve) => {
    io.stdin.once("end", resolve);
    io.stdin.once("close", resolve);
  });
  shutdown.abort();
  await tools.settled();
  await server.close();
  return 0;
}
