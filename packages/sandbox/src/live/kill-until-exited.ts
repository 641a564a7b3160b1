import type { SandboxProcess } from "../types.ts";

/** How often the kill is repeated while the process is still there. */
const retryMs = 50;

/**
 * SIGKILLs a process's group, again and again until it has exited. Right after a PTY fork (node-pty
 * returns before the child has called setsid), the group does not exist yet and a single group kill
 * reaches nobody; the retries stop once `exited` settles.
 */
export function killUntilExited(child: SandboxProcess): void {
  child.kill("SIGKILL");
  const timer = setInterval(() => child.kill("SIGKILL"), retryMs);
  timer.unref();
  void child.exited.finally(() => clearInterval(timer));
}
