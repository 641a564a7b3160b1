// Resource use of a sandbox's process trees, read from the host's /proc: every process descending
// from the host pids Kiln spawned (its bwrap supervisors included, as a cgroup's pids.max counts
// them). Parents are found from /proc/<pid>/stat, because /proc/<pid>/task/<tid>/children needs
// CONFIG_PROC_CHILDREN, which not every kernel has.
import { readdir, readFile } from "node:fs/promises";

/** One reading of a set of process trees. */
export interface ProcessSample {
  /** When it was taken (performance.now(), ms). */
  at: number;
  /** CPU time (user + system, clock ticks) per pid. */
  ticks: Map<number, number>;
  /** Resident memory of all processes together, bytes. */
  rssBytes: number;
  /** How many processes. */
  count: number;
}

/** Linux reports CPU times in /proc in USER_HZ, which is 100 on every architecture. */
const ticksPerSecond = 100;

/** Reads the trees rooted at `roots` (host pids). */
export async function sampleProcessTrees(roots: Iterable<number>): Promise<ProcessSample> {
  const at = performance.now();
  const rootSet = new Set(roots);
  const ticks = new Map<number, number>();
  if (rootSet.size === 0) return { at, ticks, rssBytes: 0, count: 0 };

  const stats = new Map<number, { ppid: number; ticks: number }>();
  const entries = await readdir("/proc");
  await Promise.all(
    entries.map(async (entry) => {
      if (!/^\d+$/.test(entry)) return;
      const text = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => undefined);
      const parsed = text === undefined ? undefined : parseStat(text);
      if (parsed !== undefined) stats.set(Number(entry), parsed);
    }),
  );

  const children = new Map<number, number[]>();
  for (const [pid, { ppid }] of stats) {
    const list = children.get(ppid);
    if (list === undefined) children.set(ppid, [pid]);
    else list.push(pid);
  }
  const members: number[] = [];
  const queue = [...rootSet].filter((pid) => stats.has(pid));
  for (let pid = queue.pop(); pid !== undefined; pid = queue.pop()) {
    if (ticks.has(pid)) continue;
    ticks.set(pid, stats.get(pid)?.ticks ?? 0);
    members.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }

  const rss = await Promise.all(members.map(readRssBytes));
  return { at, ticks, rssBytes: rss.reduce((sum, bytes) => sum + bytes, 0), count: members.length };
}

/** CPU use between two samples, in percent of one core (200 = two busy cores). */
export function cpuPercentBetween(before: ProcessSample, after: ProcessSample): number {
  const seconds = (after.at - before.at) / 1000;
  if (seconds <= 0) return 0;
  let used = 0;
  for (const [pid, ticks] of after.ticks) {
    // A pid first seen in `after` was born in between: all its CPU time falls in the window.
    const previous = before.ticks.get(pid) ?? 0;
    used += Math.max(0, ticks - previous);
  }
  return Math.round((used / ticksPerSecond / seconds) * 1000) / 10;
}

/** ppid and utime + stime from a /proc/<pid>/stat line (the command name may contain spaces and parens). */
export function parseStat(text: string): { ppid: number; ticks: number } | undefined {
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state) of proc(5): ppid is field 4, utime 14, stime 15.
  const ppid = Number(fields[1]);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (![ppid, utime, stime].every(Number.isFinite)) return undefined;
  return { ppid, ticks: utime + stime };
}

async function readRssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  return kib === undefined ? 0 : Number(kib) * 1024;
}
