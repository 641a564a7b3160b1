// `kiln doctor`: what works on this machine for Kiln, and how to fix what does not.
import { Kiln } from "@kiln/core";
import { KilnError } from "@kiln/protocol";
import { runSandboxDoctor } from "@kiln/sandbox";
import pc from "picocolors";
import type { CliIo } from "./exec/run-exec.ts";

interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string | undefined;
}

/** Runs every check and prints a report; exit 0 when all pass, 1 otherwise. */
export async function runDoctor(io: CliIo): Promise<number> {
  const json = io.argv.includes("--json");
  const checks: Check[] = [];
  const [major] = process.versions.node.split(".").map(Number);
  checks.push({
    name: "node",
    ok: (major ?? 0) >= 20,
    detail: `Node ${process.versions.node}`,
    fix: "install Node 20 or newer",
  });
  try {
    const config = new Kiln({ env: io.env, cwd: io.cwd }).config(io.cwd);
    checks.push({
      name: "config",
      ok: true,
      detail: `${config.sources.length === 0 ? "defaults (no config.toml)" : config.sources.join(", ")}; model ${config.model} via ${config.modelProviderId} (${config.modelProvider.base_url}, ${config.modelProvider.wire_api})`,
    });
    checks.push({
      name: "api key",
      ok: config.apiKeyEnv === undefined || config.apiKey !== undefined,
      detail:
        config.apiKeyEnv === undefined
          ? "the provider needs no key"
          : `${config.apiKeyEnv} ${config.apiKey === undefined ? "is not set" : "is set"}`,
      fix: config.apiKeyEnv === undefined ? undefined : `export ${config.apiKeyEnv}=<your key>`,
    });
  } catch (error) {
    checks.push({
      name: "config",
      ok: false,
      detail: error instanceof KilnError ? error.message : String(error),
      fix: "fix the key named above in config.toml",
    });
  }
  checks.push(...(await runSandboxDoctor()));

  if (json) {
    io.stdout.write(`${JSON.stringify({ ok: checks.every((c) => c.ok), checks }, null, 2)}\n`);
  } else {
    const c = pc.createColors(io.stdout.isTTY === true);
    for (const check of checks) {
      io.stdout.write(`${check.ok ? c.green("✓") : c.red("✗")} ${c.bold(check.name)}: ${check.detail}\n`);
      if (!check.ok && check.fix !== undefined) io.stdout.write(`    fix: ${check.fix}\n`);
    }
  }
  return checks.every((c) => c.ok) ? 0 : 1;
}
