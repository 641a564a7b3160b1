// Appends a thread's rollout lines to its JSONL file. Each line is written with one write(2), so a
// process killed at any point leaves whole lines (plus at most one torn last line, which the reader
// drops); `sync()` fsyncs at turn boundaries.
import {
  closeSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readSync,
  writeSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { ROLLOUT_VERSION, type RolloutLine, type ThreadInfo } from "@kiln/protocol";

type Payload<K extends RolloutLine["kind"]> = Extract<RolloutLine, { kind: K }>["payload"];

/** Writes one thread's rollout. */
export interface RolloutWriter {
  readonly path: string;
  append<K extends RolloutLine["kind"]>(kind: K, payload: Payload<K>): void;
  /** Flushes to disk (turn boundaries). */
  sync(): void;
  close(): void;
}

/** Where a new thread's rollout goes: `$KILN_HOME/sessions/YYYY/MM/DD/rollout-<time>-<id>.jsonl`. */
export function rolloutPathFor(kilnHome: string, threadId: string, createdAt: number): string {
  const d = new Date(createdAt);
  const pad = (n: number) => String(n).padStart(2, "0");
  const day = [String(d.getUTCFullYear()), pad(d.getUTCMonth() + 1), pad(d.getUTCDate())];
  const time = d.toISOString().slice(0, 19).replace(/:/g, "-");
  return join(kilnHome, "sessions", ...day, `rollout-${time}-${threadId}.jsonl`);
}

/** Starts a new rollout file with its `thread` line. */
export function createRollout(path: string, thread: ThreadInfo): RolloutWriter {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const writer = appendWriter(path, 0);
  writer.append("thread", thread);
  writer.sync();
  return writer;
}

/**
 * Opens an existing rollout for appending after line `lastSeq`. A torn last line (the process died
 * while writing it; the reader skips it) is cut off first, so the next line does not glue onto it.
 */
export function openRollout(path: string, lastSeq: number): RolloutWriter {
  dropTornTail(path);
  return appendWriter(path, lastSeq);
}

function appendWriter(path: string, lastSeq: number): RolloutWriter {
  const fd = openSync(path, "a", 0o600);
  let seq = lastSeq;
  let open = true;
  return {
    path,
    append(kind, payload) {
      // After close the fd number may belong to another file: late events (a sub-agent finishing
      // after its parent closed) are dropped rather than written anywhere.
      if (!open) return;
      seq++;
      const line = `${JSON.stringify({ v: ROLLOUT_VERSION, seq, at: Date.now(), kind, payload })}\n`;
      writeSync(fd, line);
    },
    sync() {
      if (open) fsyncSync(fd);
    },
    close() {
      if (!open) return;
      open = false;
      fsyncSync(fd);
      closeSync(fd);
    },
  };
}

/** Truncates the file after its last newline (reading backwards in chunks, never the whole file). */
function dropTornTail(path: string): void {
  const fd = openSync(path, "r+");
  try {
    const size = fstatSync(fd).size;
    const chunk = Buffer.alloc(64 * 1024);
    let end = size;
    while (end > 0) {
      const start = Math.max(0, end - chunk.length);
      const read = readSync(fd, chunk, 0, end - start, start);
      const newline = chunk.subarray(0, read).lastIndexOf(0x0a);
      if (newline !== -1) {
        const keep = start + newline + 1;
        if (keep < size) ftruncateSync(fd, keep);
        return;
      }
      end = start;
    }
    if (size > 0) ftruncateSync(fd, 0);
  } finally {
    closeSync(fd);
  }
}
