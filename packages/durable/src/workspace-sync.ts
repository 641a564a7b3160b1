// Workspaces of durable threads on workers with node-local disks (`kiln worker --workspaces
// checkpoint`): after each mutating tool step the worker saves the thread's workspace as a checkpoint
// in the shared store (inside the step, so a step is recorded only once its effects are saved); before
// each attempt of a turn it restores the thread's newest checkpoint unless this process saved or
// restored that one itself. A worker taking a turn over from a dead one therefore continues on the
// files as they were after the last completed mutating step. A sub-agent whose worker lacks the
// workspace starts from its parent's newest checkpoint; a new thread's workspace that this worker
// lacks (the API node made it, empty, on its own disk) is made here, empty.
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { toErrorInfo } from "@kiln/protocol";
import type { CheckpointRef, WorkspaceCheckpointer } from "./workspace-checkpoint.ts";

/** How a worker keeps the workspaces of the threads it runs (absent: a shared volume). */
export interface WorkspaceSync {
  /** Before a turn attempt: makes `cwd` the thread's newest checkpoint when this process lacks it. */
  prepare(ref: CheckpointRef, cwd: string, parentThreadId: string | undefined): Promise<void>;
  /** After a mutating step: saves `cwd` as the thread's newest checkpoint; a warning when it could not. */
  save(ref: CheckpointRef, cwd: string): Promise<string | undefined>;
}

/** Workspaces checkpointed to the store (one per worker process: it remembers what it saved). */
export function createCheckpointSync(checkpointer: WorkspaceCheckpointer): WorkspaceSync {
  /** The checkpoint each thread's workspace on this machine matches, as far as this process knows. */
  const current = new Map<string, string>();
  return {
    async prepare(ref, cwd, parentThreadId) {
      const latest = await checkpointer.latest(ref);
      if (latest === undefined) {
        if (existsSync(cwd)) return;
        const parent =
          parentThreadId === undefined ? undefined : { userId: ref.userId, threadId: parentThreadId };
        const seed = parent === undefined ? undefined : await checkpointer.latest(parent);
        // A new thread's workspace that the API node made (empty) on its own disk: made here too.
        if (parent === undefined || seed === undefined) await mkdir(cwd, { recursive: true, mode: 0o700 });
        else await checkpointer.restore(parent, seed.id, cwd);
        return;
      }
      if (current.get(ref.threadId) === latest.id) return;
      await checkpointer.restore(ref, latest.id, cwd);
      current.set(ref.threadId, latest.id);
    },
    async save(ref, cwd) {
      try {
        const saved = await checkpointer.save(ref, cwd);
        current.set(ref.threadId, saved.id);
        const skipped = saved.skipped.filter((s) => s.reason !== "special_file");
        if (skipped.length === 0) return undefined;
        const paths = skipped.map((s) => `${s.path} (${s.reason.replace("_", " ")})`);
        return `workspace checkpoint ${saved.id} left out ${skipped.length} file(s): ${paths.slice(0, 5).join(", ")}${skipped.length > 5 ? ", …" : ""}; another worker taking this thread over would not have them`;
      } catch (error) {
        return `the workspace could not be checkpointed (${toErrorInfo(error).message}): if this worker stops, another one continues from the previous checkpoint`;
      }
    },
  };
}
