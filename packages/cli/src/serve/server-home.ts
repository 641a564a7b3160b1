// The server's KILN_HOME is `<data-dir>/kiln-home`: its rollouts (sessions/), skills and prompts stay
// with the server's data. Its config.toml is the CLI's: `kiln serve` links
// `<data-dir>/kiln-home/config.toml` to `$KILN_HOME/config.toml` (default ~/.kiln/config.toml), so
// the server takes its default model configuration from the same file as `kiln exec`. A regular file
// put there instead is a server-only configuration and is left alone.
import { lstatSync, mkdirSync, readlinkSync, symlinkSync, unlinkSync } from "node:fs";
import { join, resolve } from "node:path";
import { kilnHomeFrom } from "@kiln/core";

/** The server's KILN_HOME, with config.toml linked to the CLI's (see the module comment). */
export function prepareServerHome(
  dataDir: string,
  env: Record<string, string | undefined>,
): {
  kilnHome: string;
  /** The config.toml the server reads through (the CLI's, or the server's own file). */
  configSource: string;
} {
  const kilnHome = join(dataDir, "kiln-home");
  mkdirSync(kilnHome, { recursive: true, mode: 0o700 });
  const serverConfig = join(kilnHome, "config.toml");
  const cliConfig = join(kilnHomeFrom(env), "config.toml");
  if (resolve(cliConfig) === resolve(serverConfig)) return { kilnHome, configSource: serverConfig };
  const existing = lstatOrUndefined(serverConfig);
  if (existing !== undefined && !existing.isSymbolicLink()) return { kilnHome, configSource: serverConfig };
  if (existing !== undefined && readlinkSync(serverConfig) === cliConfig)
    return { kilnHome, configSource: cliConfig };
  if (existing !== undefined) unlinkSync(serverConfig);
  // A link to a file that does not exist yet is fine: the configuration is read at each thread.
  symlinkSync(cliConfig, serverConfig);
  return { kilnHome, configSource: cliConfig };
}

function lstatOrUndefined(path: string) {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}
