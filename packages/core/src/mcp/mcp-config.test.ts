import { KilnError } from "@kiln/protocol";
import { describe, expect, it } from "vitest";
import { parseMcpServers, startupTimeoutMs } from "./mcp-config.ts";

function errorOf(raw: Record<string, Record<string, unknown>>): KilnError {
  try {
    parseMcpServers(raw);
  } catch (error) {
    if (error instanceof KilnError) return error;
    throw error;
  }
  throw new Error("expected parseMcpServers to throw");
}

describe("parseMcpServers", () => {
  it("reads a stdio server with Codex keys and fills in the defaults", () => {
    expect(
      parseMcpServers({ docs: { command: "docs-mcp", args: ["--stdio"], env: { TOKEN: "t" } } }),
    ).toEqual({
      docs: {
        type: "stdio",
        command: "docs-mcp",
        args: ["--stdio"],
        env: { TOKEN: "t" },
        env_vars: [],
        enabled: true,
        startup_timeout_sec: 10,
        tool_timeout_sec: 60,
      },
    });
  });

  it("reads a streamable HTTP server with its bearer token variable and headers", () => {
    expect(
      parseMcpServers({
        remote: {
          url: "https://mcp.example.com/mcp",
          bearer_token_env_var: "REMOTE_TOKEN",
          http_headers: { "X-Team": "kiln" },
          enabled_tools: ["search"],
          tool_timeout_sec: 5,
        },
      }),
    ).toEqual({
      remote: {
        type: "http",
        url: "https://mcp.example.com/mcp",
        bearer_token_env_var: "REMOTE_TOKEN",
        http_headers: { "X-Team": "kiln" },
        env_http_headers: {},
        enabled_tools: ["search"],
        enabled: true,
        startup_timeout_sec: 10,
        tool_timeout_sec: 5,
      },
    });
  });

  it("ignores keys it does not know, as the rest of config.toml does", () => {
    expect(parseMcpServers({ a: { command: "x", future_key: 1 } }).a).not.toHaveProperty("future_key");
  });

  it("names the server and the key of a bad value", () => {
    const error = errorOf({ docs: { command: "docs-mcp", args: "--stdio" } });
    expect(error.code).toBe("config_invalid");
    expect(error.message).toMatch(/^mcp_servers\.docs\.args: .* \(found "--stdio"\)$/);
    expect(error.details).toEqual({ key: "mcp_servers.docs.args" });
  });

  it("names the nested key of a bad list element", () => {
    expect(errorOf({ docs: { command: "x", disabled_tools: ["ok", 3] } }).message).toMatch(
      /^mcp_servers\.docs\.disabled_tools\.1: .*\(found 3\)$/,
    );
  });

  it("rejects a table with neither command nor url, or both", () => {
    expect(errorOf({ empty: {} }).message).toBe(
      "mcp_servers.empty: give either `command` (a stdio server) or `url` (a streamable HTTP server)",
    );
    expect(errorOf({ both: { command: "x", url: "http://h/mcp" } }).message).toMatch(/not both$/);
  });

  it("rejects a url that is not one, and a name that cannot prefix a tool name", () => {
    expect(errorOf({ web: { url: "not a url" } }).message).toMatch(/^mcp_servers\.web\.url: /);
    expect(errorOf({ "my server": { command: "x" } }).message).toMatch(/^mcp_servers\.my server: /);
  });

  it("takes Codex's startup_timeout_ms over startup_timeout_sec", () => {
    const servers = parseMcpServers({
      a: { command: "x", startup_timeout_sec: 2 },
      b: { command: "x", startup_timeout_sec: 2, startup_timeout_ms: 700 },
    });
    expect([servers.a, servers.b].map((s) => (s === undefined ? 0 : startupTimeoutMs(s)))).toEqual([
      2000, 700,
    ]);
  });
});
