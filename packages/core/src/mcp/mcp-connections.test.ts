// Real MCP servers: the stdio fixture (a child `node` process) and a streamable HTTP server started
// in this process on loopback, both written with the official SDK.

import { mkdtemp, realpath, rm } from "node:fs/promises";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { echoServerTable, functionCall, recordingContext } from "../../test/mcp-harness.ts";
import type { Tool } from "../tools/tool.ts";
import { parseMcpServers } from "./mcp-config.ts";
import { type ConnectMcpOptions, connectMcpServers, type McpConnections } from "./mcp-connections.ts";

const open: McpConnections[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

/** Connects to these `[mcp_servers]` tables, collecting warnings. */
async function connect(
  tables: Record<string, Record<string, unknown>>,
  options: Partial<ConnectMcpOptions> = {},
): Promise<{ connections: McpConnections; warnings: string[] }> {
  const warnings: string[] = [];
  const connections = await connectMcpServers(parseMcpServers(tables), {
    env: { PATH: process.env.PATH, HOME: "/home/kiln-test", LANG: "C.UTF-8" },
    cwd: process.cwd(),
    onWarning: (message) => warnings.push(message),
    ...options,
  });
  open.push(connections);
  return { connections, warnings };
}

function toolNamed(connections: McpConnections, name: string): Tool {
  const tool = connections.tools().find((t) => t.name === name);
  if (tool === undefined) throw new Error(`no tool ${name}`);
  return tool;
}

/** Calls a tool as the agent loop does: parse the model's call, then execute it. */
async function call(tool: Tool, args: unknown): Promise<string> {
  const { ctx } = recordingContext({ approvalPolicy: "never" });
  return tool.execute(tool.parse(functionCall(tool.name, args)), ctx);
}

describe("connectMcpServers over stdio", () => {
  it("offers each server tool as server__tool with the server's schema and description", async () => {
    const { connections, warnings } = await connect({ echo_srv: echoServerTable() });
    expect(warnings).toEqual([]);
    expect(connections.servers()).toEqual(["echo_srv"]);
    expect(connections.tools().map((t) => t.name)).toEqual([
      "echo_srv__echo",
      "echo_srv__add",
      "echo_srv__fail",
      "echo_srv__slow",
      "echo_srv__env",
      "echo_srv__image",
      "echo_srv__die",
    ]);
    expect(toolNamed(connections, "echo_srv__echo").spec).toEqual({
      type: "function",
      name: "echo_srv__echo",
      description: "[mcp: echo_srv] Echoes the text back.",
      parameters: {
        type: "object",
        properties: { text: { type: "string" } },
        required: ["text"],
      },
    });
    expect(toolNamed(connections, "echo_srv__fail").spec).toMatchObject({
      parameters: { type: "object", properties: {} },
    });
  });

  it("calls a tool through the Kiln tool interface", async () => {
    const { connections } = await connect({ echo_srv: echoServerTable() });
    expect(await call(toolNamed(connections, "echo_srv__add"), { a: 2, b: 40 })).toBe("42");
  });

  it("offers only enabled_tools, minus disabled_tools", async () => {
    const { connections } = await connect({
      echo_srv: echoServerTable({ enabled_tools: ["echo", "add", "fail"], disabled_tools: ["fail"] }),
    });
    expect(connections.tools().map((t) => t.name)).toEqual(["echo_srv__echo", "echo_srv__add"]);
  });

  it("does not start a server with enabled = false", async () => {
    const { connections, warnings } = await connect({ off: echoServerTable({ enabled: false }) });
    expect(connections.servers()).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it("gives a stdio server PATH, HOME, LANG and its configured env, not Kiln's secrets", async () => {
    const dir = await realpath(await mkdtemp(join(tmpdir(), "kiln-mcp-cwd-")));
    try {
      const { connections } = await connect(
        {
          echo_srv: echoServerTable({
            env: { ECHO_MARKER: "from-config" },
            env_vars: ["PASSED_THROUGH"],
            cwd: ".",
          }),
        },
        {
          cwd: dir,
          env: {
            PATH: process.env.PATH,
            HOME: "/home/kiln-test",
            LANG: "C.UTF-8",
            OPENAI_API_KEY: "sk-secret",
            PASSED_THROUGH: "yes",
          },
        },
      );
      const { ctx, events } = recordingContext({ approvalPolicy: "never" });
      const tool = toolNamed(connections, "echo_srv__env");
      const keys = JSON.parse(await tool.execute(tool.parse(functionCall(tool.name, {})), ctx)) as string[];
      expect(keys).toEqual(expect.arrayContaining(["PATH", "HOME", "LANG", "ECHO_MARKER", "PASSED_THROUGH"]));
      expect(keys).not.toContain("OPENAI_API_KEY");
      // The SDK adds only its own harmless defaults (sudo's list) on top of what Kiln passes.
      const allowed = [
        "PATH",
        "HOME",
        "LANG",
        "ECHO_MARKER",
        "PASSED_THROUGH",
        "LOGNAME",
        "SHELL",
        "TERM",
        "USER",
      ];
      expect(keys.filter((k) => !allowed.includes(k))).toEqual([]);
      expect(events.at(-1)).toMatchObject({
        type: "item/completed",
        item: { type: "mcpToolCall", status: "completed" },
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("turns a command that does not exist into a warning and no tools", async () => {
    const { connections, warnings } = await connect({ ghost: { command: "kiln-no-such-mcp-server" } });
    expect(connections.tools()).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^mcp server "ghost" failed to start: command not found/);
  });

  it("reports what a server that crashes at startup printed on stderr", async () => {
    const { warnings } = await connect({
      crash: echoServerTable({ args: [echoServerTable().args, "--crash"].flat() }),
    });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^mcp server "crash" failed to start: .*Connection closed/);
    expect(warnings[0]).toContain("(stderr: echo server: cannot open its database)");
  });

  it("gives up on a server that does not answer within startup_timeout_sec", async () => {
    const started = Date.now();
    const { connections, warnings } = await connect({
      hang: echoServerTable({ args: [echoServerTable().args, "--hang"].flat(), startup_timeout_sec: 0.3 }),
    });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(connections.tools()).toEqual([]);
    expect(warnings).toEqual([
      'mcp server "hang" failed to start: no answer within 0.3 s (startup_timeout_sec)',
    ]);
  });

  it("starts the servers that work when another one fails", async () => {
    const { connections, warnings } = await connect({
      ghost: { command: "kiln-no-such-mcp-server" },
      echo_srv: echoServerTable({ enabled_tools: ["echo"] }),
    });
    expect(connections.servers()).toEqual(["echo_srv"]);
    expect(connections.tools().map((t) => t.name)).toEqual(["echo_srv__echo"]);
    expect(warnings).toHaveLength(1);
  });

  it("rejects when the startup is aborted, and leaves no server running", async () => {
    const controller = new AbortController();
    const pending = connectMcpServers(
      parseMcpServers({ hang: echoServerTable({ args: [echoServerTable().args, "--hang"].flat() }) }),
      {
        env: { PATH: process.env.PATH },
        cwd: process.cwd(),
        onWarning: () => undefined,
        signal: controller.signal,
      },
    );
    setTimeout(() => controller.abort(), 100);
    await expect(pending).rejects.toMatchObject({ code: "turn_interrupted" });
  });
});

/** A streamable HTTP MCP server on loopback that wants `Authorization: Bearer <token>`. */
interface HttpMcpServer {
  url: string;
  headers: IncomingHttpHeaders[];
  close(): Promise<void>;
}

async function startHttpMcpServer(token: string): Promise<HttpMcpServer> {
  const headers: IncomingHttpHeaders[] = [];
  const http: Server = createServer((req, res) => {
    headers.push(req.headers);
    if (req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401, { "content-type": "application/json" }).end('{"error":"unauthorized"}');
      return;
    }
    // Stateless: a server and a transport per request, as the SDK documents.
    const server = new McpServer({ name: "http-srv", version: "1.0.0" });
    server.registerTool(
      "lookup",
      {
        description: "Looks a word up.",
        inputSchema: { word: z.string() },
        annotations: { readOnlyHint: true },
      },
      async ({ word }) => ({ content: [{ type: "text", text: `${word}: a word` }] }),
    );
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on("close", () => {
      void transport.close();
      void server.close();
    });
    server
      .connect(transport)
      .then(() => transport.handleRequest(req, res))
      .catch((error: unknown) => {
        res.writeHead(500).end(String(error));
      });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    headers,
    close: () =>
      new Promise((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

describe("connectMcpServers over streamable HTTP", () => {
  let server: HttpMcpServer;

  beforeAll(async () => {
    server = await startHttpMcpServer("s3cret");
  });

  afterAll(async () => {
    await server.close();
  });

  it("sends the bearer token from the environment and the configured headers, and calls tools", async () => {
    const { connections, warnings } = await connect(
      {
        web: {
          url: server.url,
          bearer_token_env_var: "WEB_TOKEN",
          http_headers: { "X-Team": "kiln" },
        },
      },
      { env: { WEB_TOKEN: "s3cret" } },
    );
    expect(warnings).toEqual([]);
    expect(connections.tools().map((t) => t.name)).toEqual(["web__lookup"]);
    expect(await call(toolNamed(connections, "web__lookup"), { word: "kiln" })).toBe("kiln: a word");
    expect(server.headers.at(-1)).toMatchObject({ authorization: "Bearer s3cret", "x-team": "kiln" });
  });

  it("turns a rejected token into a warning", async () => {
    const { connections, warnings } = await connect(
      { web: { url: server.url, bearer_token_env_var: "WEB_TOKEN" } },
      { env: { WEB_TOKEN: "wrong" } },
    );
    expect(connections.tools()).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^mcp server "web" failed to start: .*401/i);
  });

  it("says which variable is missing when the token is not set", async () => {
    const { warnings } = await connect({ web: { url: server.url, bearer_token_env_var: "WEB_TOKEN" } });
    expect(warnings).toEqual([
      'mcp server "web" failed to start: the environment variable WEB_TOKEN (bearer_token_env_var) is not set: export it, or remove the key',
    ]);
  });

  it("turns a server that is not listening into a warning", async () => {
    const { warnings } = await connect({ down: { url: "http://127.0.0.1:9/mcp" } });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^mcp server "down" failed to start: /);
  });
});
