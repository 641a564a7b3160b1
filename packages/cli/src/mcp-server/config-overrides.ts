import { KilnError } from "@kiln/protocol";

/**
 * The `config` argument of the `kiln` MCP tool (`{"model": "x", "sandbox_workspace_write":
 * {"network_access": true}}`, JSON values) as `-c key=value` overrides, whose values are TOML.
 */
export function configOverrides(config: Record<string, unknown> | undefined): string[] {
  if (config === undefined) return [];
  return Object.entries(config).map(([key, value]) => {
    if (key.trim() === "") throw new KilnError("config_invalid", "config: a key must not be empty");
    return `${key}=${tomlValue(value, `config.${key}`)}`;
  });
}

/** A JSON value written as a TOML value (inline tables for objects). */
function tomlValue(value: unknown, where: string): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "boolean") return String(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new KilnError("config_invalid", `${where}: not a finite number`);
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map((v, i) => tomlValue(v, `${where}[${i}]`)).join(", ")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value).map(
      ([k, v]) => `${JSON.stringify(k)} = ${tomlValue(v, `${where}.${k}`)}`,
    );
    return `{ ${entries.join(", ")} }`;
  }
  throw new KilnError(
    "config_invalid",
    `${where}: ${value === null ? "null" : typeof value} is not a configuration value (TOML has strings, numbers, booleans, arrays and tables)`,
  );
}
