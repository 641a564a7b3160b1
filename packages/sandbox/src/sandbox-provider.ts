import type { SandboxMode } from "@kiln/protocol";
import { assertNever } from "@kiln/protocol";
import { type CommandRunner, createBwrapRunner } from "./bwrap-runner.ts";
import { createHostRunner } from "./host-runner.ts";
import type { SandboxProvider, SandboxProviderOptions } from "./types.ts";

/**
 * A sandbox provider for a session running in `mode`. Each spawn picks from its own policy: bwrap for
 * `read-only` and `workspace-write`, the host for `danger-full-access`. When `mode` needs bwrap, a
 * missing bwrap (or, as root, setpriv/setfacl) throws `sandbox_unavailable` here, up front; a "none"
 * provider asked for a confined command checks then, and never falls back to the host.
 */
export function createSandboxProvider(
  mode: SandboxMode,
  options: SandboxProviderOptions = {},
): SandboxProvider {
  let bwrap: CommandRunner | undefined =
    mode === "danger-full-access" ? undefined : createBwrapRunner(options);
  const host = createHostRunner();

  return {
    kind: mode === "danger-full-access" ? "none" : "bwrap",
    async spawn(spawnOptions) {
      const policyMode = spawnOptions.policy.mode;
      switch (policyMode) {
        case "danger-full-access":
          return host.spawn(spawnOptions);
        case "read-only":
        case "workspace-write":
          bwrap ??= createBwrapRunner(options);
          return bwrap.spawn(spawnOptions);
        default:
          return assertNever(policyMode);
      }
    },
  };
}
