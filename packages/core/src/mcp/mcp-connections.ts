// Connects to the configured MCP servers: all in parallel, each within its startup timeout (spawn or
// reach it → initialize → list its tools). A server that cannot start is a warning and is left out;
// the others' tools are offered to the model as `server__tool`. `close()` stops them all.

import { resolve } from "node:path";
import { KilnError } from "@kiln/protocol";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { Tool as McpToolDefinition } from "@modelcontextprotocol/sdk/types.js";
import type { Tool } from "../tools/tool.ts";
import {
  type McpHttpServerConfig,
  type McpServerConfig,
  type McpStdioServerConfig,
  startupTimeoutMs,
} from "./mcp-config.ts";
import { createMcpTool, type McpCallResult, type McpToolCaller, mcpToolName } from "./mcp-tool.ts";

/** Where and how the servers start. */
export interface ConnectMcpOptions {
  /** Kiln's environment: the source of PATH, HOME, LANG, `env_vars` and bearer tokens. */
  env: Record<string, string | undefined>;
  /** The thread's working directory: stdio servers start here (or in their `cwd`, relative to it). */
  cwd: string;
  /** Called once per server that failed to start, and for tools left out. */
  onWarning(message: string): void;
  /** Aborts the startup: every server is stopped and the call rejects. */
  signal?: AbortSignal;
  /** How Kiln introduces itself to servers. */
  clientInfo?: { name: string; version: string };
}

/** The servers that started, and their tools. */
export interface McpConnections {
  /** One Kiln tool per offered server tool (after `enabled_tools` / `disabled_tools`). */
  tools(): Tool[];
  /** Names of the servers that started. */
  servers(): string[];
  /** Stops every server (stdio children are ended; HTTP sessions are closed). */
  close(): Promise<void>;
}

/** Variables a stdio server gets from Kiln's environment, whatever its config says. */
const BASE_ENV = ["PATH", "HOME", "LANG"];
/** How much of a stdio server's stderr is kept to explain a failed start. */
const STDERR_TAIL_BYTES = 2_000;
const DEFAULT_CLIENT_INFO = { name: "kiln", version: "0.1.0" };

interface Connected {
  name: string;
  client: Client;
  tools: McpToolDefinition[];
}

/** Starts every enabled server; never rejects because one failed (see `onWarning`). */
export async function connectMcpServers(
  servers: Record<string, McpServerConfig>,
  options: ConnectMcpOptions,
): Promise<McpConnections> {
  const enabled = Object.entries(servers).filter(([, config]) => config.enabled);
  const settled = await Promise.all(
    enabled.map(([name, config]) =>
      connectOne(name, config, options).then(
        (connected) => connected,
        (error: unknown) => {
          if (options.signal?.aborted !== true)
            options.onWarning(`mcp server "${name}" failed to start: ${errorMessage(error)}`);
          return undefined;
        },
      ),
    ),
  );
  const connected = settled.filter((c) => c !== undefined);
  if (options.signal?.aborted === true) {
    await Promise.all(connected.map((c) => closeQuietly(c.client)));
    throw new KilnError("turn_interrupted", "starting the MCP servers was interrupted");
  }
  const tools = buildTools(connected, servers, options.onWarning);
  return {
    tools: () => [...tools],
    servers: () => connected.map((c) => c.name),
    close: async () => {
      await Promise.all(connected.map((c) => closeQuietly(c.client)));
    },
  };
}

async function connectOne(
  name: string,
  config: McpServerConfig,
  options: ConnectMcpOptions,
): Promise<Connected> {
  const timeoutMs = startupTimeoutMs(config);
  const stderr = { tail: "" };
  const transport =
    config.type === "stdio" ? stdioTransport(config, options, stderr) : httpTransport(config, options.env);
  const client = new Client(options.clientInfo ?? DEFAULT_CLIENT_INFO);
  const deadline = AbortSignal.timeout(timeoutMs);
  const signal = options.signal === undefined ? deadline : AbortSignal.any([deadline, options.signal]);
  try {
    const tools = await withSignal(
      (async () => {
        await client.connect(transport, { timeout: timeoutMs, signal });
        return listAllTools(client, timeoutMs, signal);
      })(),
      signal,
    );
    return { name, client, tools };
  } catch (error) {
    // A server that failed to start gets no grace period: stop it now rather than wait for it to exit.
    if (transport instanceof StdioClientTransport) killQuietly(transport.pid);
    await closeQuietly(client, transport);
    if (deadline.aborted)
      throw new Error(`no answer within ${timeoutMs / 1000} s (startup_timeout_sec)${stderrNote(stderr)}`);
    throw new Error(`${errorMessage(error)}${stderrNote(stderr)}`, { cause: error });
  }
}

/** Every tool of a server (following `nextCursor` pages). */
async function listAllTools(
  client: Client,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<McpToolDefinition[]> {
  const tools: McpToolDefinition[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor === undefined ? {} : { cursor }, {
      timeout: timeoutMs,
      signal,
    });
    tools.push(...page.tools);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return tools;
}

function stdioTransport(
  config: McpStdioServerConfig,
  options: ConnectMcpOptions,
  stderr: { tail: string },
): StdioClientTransport {
  const env: Record<string, string> = {};
  for (const key of [...BASE_ENV, ...config.env_vars]) {
    const value = options.env[key];
    if (value !== undefined) env[key] = value;
  }
  Object.assign(env, config.env);
  const transport = new StdioClientTransport({
    command: config.command,
    args: config.args,
    env,
    cwd: resolve(options.cwd, config.cwd ?? "."),
    stderr: "pipe",
  });
  // The pipe must be drained (a full pipe blocks the server); the tail explains a failed start.
  transport.stderr?.on("data", (chunk: Buffer) => {
    stderr.tail = (stderr.tail + chunk.toString("utf8")).slice(-STDERR_TAIL_BYTES);
  });
  return transport;
}

function httpTransport(
  config: McpHttpServerConfig,
  env: Record<string, string | undefined>,
): StreamableHTTPClientTransport {
  const headers: Record<string, string> = { ...config.http_headers };
  for (const [header, variable] of Object.entries(config.env_http_headers)) {
    const value = env[variable];
    if (value !== undefined && value !== "") headers[header] = value;
  }
  if (config.bearer_token_env_var !== undefined) {
    const token = env[config.bearer_token_env_var];
    if (token === undefined || token === "") {
      throw new Error(
        `the environment variable ${config.bearer_token_env_var} (bearer_token_env_var) is not set: export it, or remove the key`,
      );
    }
    headers.Authorization = `Bearer ${token}`;
  }
  return new StreamableHTTPClientTransport(new URL(config.url), { requestInit: { headers } });
}

/** The Kiln tools of the connected servers, filtered, with unique names. */
function buildTools(
  connected: Connected[],
  servers: Record<string, McpServerConfig>,
  onWarning: (message: string) => void,
): Tool[] {
  const tools: Tool[] = [];
  const taken = new Set<string>();
  for (const { name, client, tools: definitions } of connected) {
    const config = servers[name];
    if (config === undefined) continue;
    const caller = callerFor(client);
    for (const definition of definitions) {
      if (config.enabled_tools !== undefined && !config.enabled_tools.includes(definition.name)) continue;
      if (config.disabled_tools?.includes(definition.name) === true) continue;
      const toolName = mcpToolName(name, definition.name);
      if (taken.has(toolName)) {
        onWarning(
          `mcp server "${name}": tool "${definition.name}" left out: another tool is named ${toolName}`,
        );
        continue;
      }
      taken.add(toolName);
      tools.push(
        createMcpTool({
          server: name,
          definition,
          caller,
          timeoutMs: Math.round(config.tool_timeout_sec * 1000),
        }),
      );
    }
  }
  return tools;
}

function callerFor(client: Client): McpToolCaller {
  return {
    async callTool(name, args, { signal, timeoutMs }): Promise<McpCallResult> {
      const result = await client.callTool({ name, arguments: args }, undefined, {
        signal,
        timeout: timeoutMs,
      });
      if ("toolResult" in result && !("content" in result)) {
        // A server of the 2024-10-07 protocol answers with `toolResult` instead of content blocks.
        return { content: [{ type: "text", text: JSON.stringify(result.toolResult) }], isError: false };
      }
      const content = Array.isArray(result.content) ? (result.content as McpCallResult["content"]) : [];
      return {
        content,
        structuredContent: result.structuredContent as Record<string, unknown> | undefined,
        isError: result.isError === true,
      };
    },
  };
}

/** Rejects as soon as `signal` aborts (an SDK call may not notice an abort while spawning). */
function withSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolvePromise, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolvePromise(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

async function closeQuietly(client: Client, transport?: Transport): Promise<void> {
  // A server that fails to close has nothing more to give us: closing is best effort by design.
  await client.close().catch(() => undefined);
  if (transport !== undefined) await transport.close().catch(() => undefined);
}

function killQuietly(pid: number | null): void {
  if (pid === null) return;
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

function stderrNote(stderr: { tail: string }): string {
  const lines = stderr.tail.trim().split("\n").slice(-3).join(" | ");
  return lines === "" ? "" : ` (stderr: ${lines})`;
}

function errorMessage(error: unknown): string {
  if (error instanceof StreamableHTTPError && error.code !== undefined) {
    const hint = error.code === 401 || error.code === 403 ? " (check the token in bearer_token_env_var)" : "";
    return `HTTP ${error.code}${hint}: ${error.message}`;
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    if (code === "ENOENT") return `command not found (${error.message})`;
    return error.message;
  }
  return String(error);
}
