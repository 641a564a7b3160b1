// Harness figures that need no model: compacting a 200-item history (everything but the model call)
// and resuming a thread whose rollout holds 10,000 items. Uses the built @kiln/core library.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";

/** Median-able samples of both benchmarks. */
export async function benchHarness({ root, runs }) {
  const core = await import(pathToFileURL(join(root, "packages/core/dist/index.js")).href);
  return { compact: benchCompaction(core, runs), resume: benchResume(core, runs) };
}

/** A plausible history: alternating calls and outputs of a few hundred bytes each. */
function history(items) {
  const out = [
    {
      type: "message",
      role: "developer",
      content: [{ type: "input_text", text: "permissions and AGENTS.md" }],
    },
    { type: "message", role: "user", content: [{ type: "input_text", text: "<environment_context/>" }] },
  ];
  for (let i = 0; out.length < items; i++) {
    if (i % 10 === 0)
      out.push({ type: "message", role: "user", content: [{ type: "input_text", text: `request ${i}` }] });
    out.push({
      type: "function_call",
      call_id: `call_${i}`,
      name: "exec_command",
      arguments: JSON.stringify({ cmd: `rg pattern src/file${i}.ts` }),
    });
    out.push({
      type: "function_call_output",
      call_id: `call_${i}`,
      output: `Exit code: 0\nWall time: 0.01 seconds\nOutput:\n${"src/x.ts:12: const value = compute(input);\n".repeat(6)}`,
    });
  }
  return out.slice(0, items);
}

function benchCompaction(core, runs) {
  const items = history(200);
  const summary = "Summary of the work so far. ".repeat(40);
  const samples = [];
  for (let i = 0; i < runs * 4; i++) {
    const start = performance.now();
    const before = core.historyTokens(items);
    const rebuilt = core.rebuildHistory(items, 2, summary);
    const after = core.historyTokens(rebuilt);
    JSON.stringify({
      v: 1,
      seq: 1,
      at: Date.now(),
      kind: "compacted",
      payload: { turnId: "t", history: rebuilt },
    });
    samples.push(performance.now() - start);
    if (after >= before) throw new Error("compaction did not shrink the history");
  }
  return samples;
}

function benchResume(core, runs) {
  const home = mkdtempSync(join(tmpdir(), "kiln-bench-home-"));
  try {
    const id = "thr_01JBENCH0000000000000000AA";
    const cwd = home;
    const dir = join(home, "sessions", "2026", "11", "21");
    mkdirSync(dir, { recursive: true });
    const info = {
      id,
      createdAt: Date.now(),
      cwd,
      model: "gpt-test",
      modelProvider: "openai",
      sandbox: "workspace-write",
      approvalPolicy: "never",
      mode: "code",
      additionalDirectories: [],
    };
    const lines = [{ kind: "thread", payload: info }];
    lines.push({
      kind: "turn_context",
      payload: {
        turnId: "turn_1",
        model: "gpt-test",
        modelProvider: "openai",
        sandbox: "workspace-write",
        approvalPolicy: "never",
        mode: "code",
        cwd,
      },
    });
    for (const item of history(10_000)) lines.push({ kind: "history", payload: { turnId: "turn_1", item } });
    lines.push({
      kind: "event",
      payload: {
        seq: 1,
        threadId: id,
        turnId: "turn_1",
        at: Date.now(),
        event: {
          type: "turn/completed",
          turnId: "turn_1",
          status: "completed",
          usage: {
            inputTokens: 1,
            cachedInputTokens: 0,
            outputTokens: 1,
            reasoningOutputTokens: 0,
            totalTokens: 2,
          },
        },
      },
    });
    const text = lines.map((l, i) => JSON.stringify({ v: 1, seq: i + 1, at: Date.now(), ...l })).join("\n");
    writeFileSync(join(dir, `rollout-2026-11-21T00-00-00-${id}.jsonl`), `${text}\n`);
    const kiln = new core.Kiln({ env: { KILN_HOME: home, OPENAI_API_KEY: "k" } });
    const samples = [];
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      const thread = kiln.resumeThread(id);
      samples.push(performance.now() - start);
      thread.close();
    }
    return samples;
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
