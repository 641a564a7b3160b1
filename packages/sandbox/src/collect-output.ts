import type { ExitStatus, SandboxProcess } from "./types.ts";

/** A finished command: everything it printed and how it ended. */
export interface CommandResult {
  output: string;
  status: ExitStatus;
}

/** Folds a running command into its result. */
export async function collectOutput(child: SandboxProcess): Promise<CommandResult> {
  let output = "";
  const unsubscribe = child.onData((chunk) => {
    output += chunk;
  });
  const status = await child.exited;
  unsubscribe();
  return { output, status };
}
