// Timing and memory primitives shared by the benchmarks: summaries of samples, timing a child process
// to its exit, and watching a running process's peak resident set size.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

/** The median of `values` (the mean of the two middle ones for an even count). */
export function median(values) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** `{ n, median, min, max }` of a list of samples. */
export function summarize(values) {
  return { n: values.length, median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/** Calls `fn(i)` `n` times one after another (never concurrently: runs would compete for the CPUs). */
export async function repeat(n, fn) {
  const results = [];
  for (let i = 0; i < n; i++) results.push(await fn(i));
  return results;
}

/**
 * Runs `file args` to completion and resolves with its wall time in ms, from `spawn()` to the `exit`
 * event. A non-zero exit rejects: the figure of a failed run would measure the failure.
 */
export function timeProcess(file, args, options) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(file, args, { ...options, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      const wallMs = performance.now() - started;
      if (code === 0) return resolve(wallMs);
      reject(new Error(`${file} ${args.join(" ")} exited with ${code ?? signal}: ${stderr.trim()}`));
    });
  });
}

/**
 * Polls `/proc/<pid>/status` every `intervalMs` for `VmHWM`, the kernel's own high-water mark of the
 * process's resident set. Because it is a peak, the last successful read before the process exits is
 * within one interval of the true maximum. `stop()` (call it on `exit`, before the pid can be reused)
 * returns the peak in kB, or null if it was never read.
 */
export function watchPeakRss(pid, intervalMs = 3) {
  let peakKb = null;
  const read = () => {
    const kb = readVmHwmKb(pid);
    if (kb !== null) peakKb = Math.max(peakKb ?? 0, kb);
  };
  read();
  const timer = setInterval(read, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      return peakKb;
    },
  };
}

function readVmHwmKb(pid) {
  let status;
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch (error) {
    // The process has exited (or been reaped) between two polls: the previous read stands as the peak.
    if (error.code === "ENOENT" || error.code === "ESRCH") return null;
    throw error;
  }
  // A zombie has no memory map and so no VmHWM line; same as gone.
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(status);
  return match ? Number(match[1]) : null;
}
