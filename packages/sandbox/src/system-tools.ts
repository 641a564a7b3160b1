import { accessSync, constants } from "node:fs";
import { KilnError } from "@kiln/protocol";

// Tools are looked up in the system directories rather than on PATH: Kiln often runs as root, and a
// PATH entry the agent can write must never decide which `bwrap` or `setfacl` root executes.
const systemDirs = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

/** Whether `path` is an executable file. */
export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The absolute path of a system tool, or undefined when it is not installed. */
export function findSystemTool(name: string): string | undefined {
  return systemDirs.map((dir) => `${dir}/${name}`).find(isExecutable);
}

/** What each host tool the sandbox needs is for, and where it comes from. */
const toolHelp = {
  bwrap: { pkg: "bubblewrap", why: "" },
  setpriv: { pkg: "util-linux", why: "needed to drop root for sandboxed commands" },
  setfacl: { pkg: "acl", why: "needed to let the sandbox user into the workspace" },
  getfacl: { pkg: "acl", why: "needed to let the sandbox user into the workspace" },
  bash: { pkg: "bash", why: "needed to start sandboxed commands" },
} as const;

/** A host tool the sandbox depends on. */
export type SystemTool = keyof typeof toolHelp;

/** The `sandbox_unavailable` error for a missing tool, saying what to install. */
export function missingToolError(tool: SystemTool): KilnError {
  if (tool === "bwrap") {
    return new KilnError(
      "sandbox_unavailable",
      "bubblewrap is not installed: `apt-get install bubblewrap`, or run with `--sandbox danger-full-access`",
    );
  }
  const { pkg, why } = toolHelp[tool];
  return new KilnError(
    "sandbox_unavailable",
    `${tool} is not installed (${why}): \`apt-get install ${pkg}\`, or run with \`--sandbox danger-full-access\``,
  );
}

/** The path of `tool` (or of `override` when given), or a `sandbox_unavailable` error. */
export function requireSystemTool(tool: SystemTool, override?: string): string {
  const path = override ?? findSystemTool(tool);
  if (path === undefined || !isExecutable(path)) throw missingToolError(tool);
  return path;
}
