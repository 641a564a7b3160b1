// Workspaces of durable threads on workers with node-local disks (`kiln worker --workspaces
// checkpoint`): after each mutating tool step the worker saves the thread's workspace as a checkpoint
// in the shared store (inside the step, so a step is recorded only once its effects are saved); before
// each attempt of a turn it restores the newest checkpoint unless the directory on this machine is
// that checkpoint already (as far as this process knows: it saved or restored it). A worker taking a
// turn over from a dead one therefore continues on the files as they were after the last completed
// mutating step.
//
// Threads that share a directory — a thread, its sub-agents and its forks, all with the same `cwd` —
// share one chain of checkpoints, the one of the oldest thread of the family with that `cwd`, so a
// restore never puts back a sibling's older copy over newer files. What this process knows is kept
// per directory for the same reason. A new thread's workspace that this worker lacks (the API node
// made it, empty, on its own disk) is made here, empty.
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { type ThreadInfo, toErrorInfo } from "@kiln/protocol";
import type { KilnStore } from "@kiln/store";
import type { CheckpointRef, WorkspaceCheckpointer } from "./workspace-checkpoint.ts";

/** How a worker keeps the workspaces of the threads it runs (absent: a shared volume). */
export interface WorkspaceSync {
  /**
   * Before a turn attempt: makes the thread's `cwd` its family's newest checkpoint when this process
   * does not know it to be that already; answers the chain the thread's saves go to.
   */
  prepare(userId: string, info: ThreadInfo): Promise<CheckpointRef>;
  /** After a mutating step: saves `cwd` as the chain's newest checkpoint; a warning when it could not. */
  save(chain: CheckpointRef, cwd: string): Promise<string | undefined>;
}

/** Sub-agents and forks nest only a few levels: a longer parent chain is not followed further. */
const MAX_FAMILY_DEPTH = 16;

/** Workspaces checkpointed to the store (one per worker process: it remembers what it saved). */
export function createCheckpointSync(checkpointer: WorkspaceCheckpointer, store: KilnStore): WorkspaceSync {
  /** The checkpoint each directory on this machine matches, as far as this process knows. */
  const current = new Map<string, string>();

  /** The oldest thread of `info`'s family that has the same working directory. */
  async function chainOf(userId: string, info: ThreadInfo): Promise<CheckpointRef> {
    let owner = info;
    for (let i = 0; i < MAX_FAMILY_DEPTH && owner.parentThreadId !== undefined; i++) {
      const parent = await store.threads.get({ userId, threadId: owner.parentThreadId });
      if (parent === undefined || parent.info.cwd !== info.cwd) break;
      owner = parent.info;
    }
    return { userId, threadId: owner.id };
  }

  return {
    async prepare(userId, info) {
      const chain = await chainOf(userId, info);
      const cwd = info.cwd;
      const latest = await checkpointer.latest(chain);
      if (latest === undefined) {
        if (!existsSync(cwd)) await mkdir(cwd, { recursive: true, mode: 0o700 });
        return chain;
      }
      if (current.get(cwd) === latest.id && existsSync(cwd)) return chain;
      await checkpointer.restore(chain, latest.id, cwd);
      current.set(cwd, latest.id);
      return chain;
    },
    async save(chain, cwd) {
      try {
        const saved = await checkpointer.save(chain, cwd);
        current.set(cwd, saved.id);
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
