import { KilnError } from "@kiln/protocol";
import { z } from "zod";

/** Keys every `[mcp_servers.NAME]` table may have, whatever its transport. */
const common = {
  /** `false` keeps the table but does not start the server. */
  enabled: z.boolean().default(true),
  /** How long the server has to start and list its tools. */
  startup_timeout_sec: z.number().positive().default(10),
  /** Codex's older spelling of the startup timeout, in ms (wins when given). */
  startup_timeout_ms: z.number().int().positive().optional(),
  /** How long one tool call may take. */
  tool_timeout_sec: z.number().positive().default(60),
  /** Only these tools are offered to the model (all when absent). */
  enabled_tools: z.array(z.string()).optional(),
  /** These tools are never offered to the model (applied after `enabled_tools`). */
  disabled_tools: z.array(z.string()).optional(),
};

/** A server Kiln starts as a child process and speaks to over stdin/stdout. */
export const McpStdioServerConfig = z.object({
  ...common,
  /** The executable (looked up on PATH). */
  command: z.string().min(1, "must not be empty"),
  args: z.array(z.string()).default([]),
  /** Variables set for the server (on top of PATH, HOME and LANG; nothing else is inherited). */
  env: z.record(z.string(), z.string()).default({}),
  /** Names of Kiln's own environment variables passed through to the server. */
  env_vars: z.array(z.string()).default([]),
  /** The server's working directory (relative to the thread's cwd). */
  cwd: z.string().optional(),
});
export type McpStdioServerConfig = z.infer<typeof McpStdioServerConfig>;

/** A server reached over MCP's streamable HTTP transport. */
export const McpHttpServerConfig = z.object({
  ...common,
  url: z.url(),
  /** Name of the environment variable holding a bearer token (sent as `Authorization: Bearer …`). */
  bearer_token_env_var: z.string().min(1).optional(),
  /** Extra headers sent with every request. */
  http_headers: z.record(z.string(), z.string()).default({}),
  /** Headers whose values come from environment variables: header name → variable name. */
  env_http_headers: z.record(z.string(), z.string()).default({}),
});
export type McpHttpServerConfig = z.infer<typeof McpHttpServerConfig>;

/** One `[mcp_servers.NAME]` table: stdio (`command`) or streamable HTTP (`url`). */
export type McpServerConfig =
  | ({ type: "stdio" } & McpStdioServerConfig)
  | ({ type: "http" } & McpHttpServerConfig);

/**
 * Validates the `[mcp_servers]` tables of the configuration. Unknown keys are ignored (as in the rest of
 * `config.toml`); a bad value throws `KilnError("config_invalid")` naming `mcp_servers.NAME.key`.
 */
export function parseMcpServers(
  raw: Record<string, Record<string, unknown>>,
): Record<string, McpServerConfig> {
  const servers: Record<string, McpServerConfig> = {};
  for (const [name, table] of Object.entries(raw)) servers[name] = parseOne(name, table);
  return servers;
}

function parseOne(name: string, table: Record<string, unknown>): McpServerConfig {
  const where = `mcp_servers.${name}`;
  if (!/^[a-zA-Z0-9_-]+$/.test(name)) {
    throw new KilnError(
      "config_invalid",
      `${where}: a server name may only use letters, digits, "_" and "-" (it prefixes tool names)`,
      { details: { key: where } },
    );
  }
  const hasCommand = table.command !== undefined;
  const hasUrl = table.url !== undefined;
  if (hasCommand === hasUrl) {
    throw new KilnError(
      "config_invalid",
      `${where}: give either \`command\` (a stdio server) or \`url\` (a streamable HTTP server)${hasCommand ? ", not both" : ""}`,
      { details: { key: where } },
    );
  }
  if (hasCommand) {
    const parsed = McpStdioServerConfig.safeParse(table);
    if (!parsed.success) throw invalid(where, table, parsed.error.issues);
    return { type: "stdio", ...parsed.data };
  }
  const parsed = McpHttpServerConfig.safeParse(table);
  if (!parsed.success) throw invalid(where, table, parsed.error.issues);
  return { type: "http", ...parsed.data };
}

function invalid(
  where: string,
  table: Record<string, unknown>,
  issues: { path: PropertyKey[]; message: string }[],
): KilnError {
  const issue = issues[0];
  const path = issue?.path.map(String) ?? [];
  const key = [where, ...path].join(".");
  const found = path.length === 0 ? undefined : valueAt(table, path);
  const shown = found === undefined ? "" : ` (found ${JSON.stringify(found)})`;
  return new KilnError("config_invalid", `${key}: ${issue?.message ?? "invalid"}${shown}`, {
    details: { key },
  });
}

function valueAt(value: unknown, path: string[]): unknown {
  let node = value;
  for (const key of path) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** The startup timeout of a server, in ms. */
export function startupTimeoutMs(config: McpServerConfig): number {
  return config.startup_timeout_ms ?? Math.round(config.startup_timeout_sec * 1000);
}
