import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KilnError } from "@kiln/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createHookRunner } from "./hook-runner.ts";
import { type HookDefinition, HooksConfig } from "./hooks-config.ts";

let dir: string;
const env = { PATH: process.env.PATH, HOME: "/home/hooky", LANG: "C.UTF-8", SECRET_TOKEN: "do-not-pass" };

beforeEach(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), "kiln-hooks-")));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A node hook script in the temp dir, run as argv. */
function nodeHook(name: string, source: string, extra: Partial<HookDefinition> = {}): HookDefinition {
  const file = join(dir, `${name}.mjs`);
  writeFileSync(file, source);
  return { command: [process.execPath, file], ...extra };
}

/** A hook that writes what it received (stdin, env, cwd) to `out` and exits with `code`. */
function recorder(out: string, code = 0): HookDefinition {
  return nodeHook(
    `record-${code}-${Math.random().toString(36).slice(2)}`,
    `import { readFileSync, writeFileSync } from "node:fs";
const stdin = readFileSync(0, "utf8");
writeFileSync(${JSON.stringify(out)}, JSON.stringify({ stdin: JSON.parse(stdin), env: process.env, cwd: process.cwd() }));
process.exit(${code});`,
  );
}

/** Whether `pid` is a live process (a zombie waiting for a reaper counts as gone). */
function isRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

const config = (hooks: Partial<HooksConfig>): HooksConfig => HooksConfig.parse(hooks);

describe("createHookRunner", () => {
  it("gives the hook the payload as JSON on stdin, runs it in the thread's cwd with PATH/HOME/LANG and KILN_HOOK_EVENT", async () => {
    const out = join(dir, "received.json");
    const runner = createHookRunner(config({ pre_tool_use: [recorder(out)] }), { cwd: dir, env });

    const outcome = await runner.run("pre_tool_use", {
      threadId: "thr_1",
      turnId: "turn_1",
      toolName: "exec_command",
      toolInput: { cmd: "ls" },
    });

    expect(outcome).toEqual({ warnings: [] });
    const received = JSON.parse(readFileSync(out, "utf8")) as {
      stdin: unknown;
      env: Record<string, string>;
      cwd: string;
    };
    expect(received.stdin).toEqual({
      event: "pre_tool_use",
      thread_id: "thr_1",
      turn_id: "turn_1",
      cwd: dir,
      tool_name: "exec_command",
      tool_input: { cmd: "ls" },
    });
    expect(received.cwd).toBe(dir);
    expect(received.env.SECRET_TOKEN).toBeUndefined();
    expect({
      HOME: received.env.HOME,
      LANG: received.env.LANG,
      KILN_HOOK_EVENT: received.env.KILN_HOOK_EVENT,
    }).toEqual({
      HOME: "/home/hooky",
      LANG: "C.UTF-8",
      KILN_HOOK_EVENT: "pre_tool_use",
    });
  });

  it("blocks a pre_tool_use call when a hook exits with code 2, with its stderr as the reason", async () => {
    const runner = createHookRunner(
      config({ pre_tool_use: [{ command: "echo '  no rm -rf here  ' >&2; exit 2" }] }),
      { cwd: dir, env },
    );

    expect(await runner.run("pre_tool_use", { threadId: "t", toolName: "exec_command" })).toEqual({
      blocked: { reason: "no rm -rf here", hook: "echo '  no rm -rf here  ' >&2; exit 2" },
      warnings: [],
    });
  });

  it("blocks a call when a hook prints a JSON block decision, and allows on exit 0 or an allow decision", async () => {
    const block = `echo '{"decision":"block","reason":"not on Fridays"}'`;
    const allow = `echo '{"decision":"allow"}'; echo 'plain text is ignored' >&2`;
    const blocking = createHookRunner(config({ pre_tool_use: [{ command: block }] }), { cwd: dir, env });
    const allowing = createHookRunner(
      config({ pre_tool_use: [{ command: allow }, { command: "echo hi" }] }),
      {
        cwd: dir,
        env,
      },
    );

    expect(await blocking.run("pre_tool_use", { threadId: "t", toolName: "apply_patch" })).toEqual({
      blocked: { reason: "not on Fridays", hook: block },
      warnings: [],
    });
    expect(await allowing.run("pre_tool_use", { threadId: "t", toolName: "apply_patch" })).toEqual({
      warnings: [],
    });
  });

  it("runs hooks in order and stops at the first block", async () => {
    const first = join(dir, "first.json");
    const after = join(dir, "after.json");
    const runner = createHookRunner(
      config({ pre_tool_use: [recorder(first), { command: "echo stop >&2; exit 2" }, recorder(after)] }),
      { cwd: dir, env },
    );

    const outcome = await runner.run("pre_tool_use", { threadId: "t", toolName: "exec_command" });

    expect(outcome).toEqual({ blocked: { reason: "stop", hook: "echo stop >&2; exit 2" }, warnings: [] });
    expect(existsSync(first)).toBe(true);
    expect(existsSync(after)).toBe(false);
  });

  it("turns a failing, missing or slow hook into a warning and allows the call", async () => {
    const started = performance.now();
    const runner = createHookRunner(
      config({
        pre_tool_use: [
          { command: "echo 'guard crashed' >&2; echo more >&2; exit 1" },
          { command: ["/nonexistent/hook"] },
          { command: "sleep 20", timeout_ms: 300 },
        ],
      }),
      { cwd: dir, env },
    );

    expect(await runner.run("pre_tool_use", { threadId: "t", toolName: "exec_command" })).toEqual({
      warnings: [
        "hook `echo 'guard crashed' >&2; echo more >&2; exit 1` (pre_tool_use) failed: exit code 1: guard crashed",
        "hook `/nonexistent/hook` (pre_tool_use) failed: it could not start: spawn /nonexistent/hook ENOENT",
        "hook `sleep 20` (pre_tool_use) failed: timed out after 300 ms (set timeout_ms to allow longer)",
      ],
    });
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it("kills what a timed-out hook started, not only the shell", async () => {
    const pidFile = join(dir, "child.pid");
    const runner = createHookRunner(
      config({ stop: [{ command: `sleep 30 & echo $! > ${pidFile}; wait`, timeout_ms: 300 }] }),
      { cwd: dir, env },
    );

    const outcome = await runner.run("stop", { threadId: "t", turnId: "u", finalMessage: "done" });

    expect(outcome.warnings).toEqual([
      `hook \`sleep 30 & echo $! > ${pidFile}; wait\` (stop) failed: timed out after 300 ms (set timeout_ms to allow longer)`,
    ]);
    const pid = Number(readFileSync(pidFile, "utf8").trim());
    await new Promise((r) => setTimeout(r, 100));
    expect(isRunning(pid)).toBe(false);
  });

  it("does not wait for a process the hook left in the background holding its output", async () => {
    const pidFile = join(dir, "bg.pid");
    const command = `sleep 20 & echo $! > ${pidFile}; exit 0`;
    const runner = createHookRunner(config({ post_tool_use: [{ command }] }), { cwd: dir, env });
    const started = performance.now();

    const outcome = await runner.run("post_tool_use", { threadId: "t", toolName: "x", toolOutput: "" });

    expect(outcome).toEqual({ warnings: [] });
    expect(performance.now() - started).toBeLessThan(4_000);
    process.kill(Number(readFileSync(pidFile, "utf8").trim()), "SIGKILL");
  });

  it("matches the whole tool name against the matcher regex; no matcher, '' or '*' match every tool", async () => {
    const block = (matcher?: string): HookDefinition => ({
      ...(matcher === undefined ? {} : { matcher }),
      command: `echo ${JSON.stringify(matcher ?? "all")} >&2; exit 2`,
    });
    const blocked = async (matcher: string | undefined, toolName: string) => {
      const runner = createHookRunner(config({ pre_tool_use: [block(matcher)] }), { cwd: dir, env });
      return (await runner.run("pre_tool_use", { threadId: "t", toolName })).blocked !== undefined;
    };

    expect(await blocked("exec_command|apply_patch", "exec_command")).toBe(true);
    expect(await blocked("exec_command|apply_patch", "apply_patch")).toBe(true);
    expect(await blocked("exec_command|apply_patch", "update_plan")).toBe(false);
    expect(await blocked("exec", "exec_command")).toBe(false);
    expect(await blocked("mcp__.*", "mcp__github__create_issue")).toBe(true);
    expect(await blocked(undefined, "anything")).toBe(true);
    expect(await blocked("", "anything")).toBe(true);
    expect(await blocked("*", "anything")).toBe(true);
  });

  it("gives post_tool_use hooks the output and stop hooks the final message; only pre_tool_use can block", async () => {
    const post = join(dir, "post.json");
    const stop = join(dir, "stop.json");
    const runner = createHookRunner(
      config({
        post_tool_use: [recorder(post, 2)],
        stop: [recorder(stop)],
      }),
      { cwd: "/", env },
    );

    const afterCall = await runner.run("post_tool_use", {
      threadId: "t",
      turnId: "u",
      cwd: dir,
      toolName: "apply_patch",
      toolInput: "*** Begin Patch\n*** End Patch",
      toolOutput: "Done",
    });
    const atStop = await runner.run("stop", {
      threadId: "t",
      turnId: "u",
      cwd: dir,
      finalMessage: "All green.",
    });

    expect(afterCall.blocked).toBeUndefined();
    expect(afterCall.warnings).toEqual([
      expect.stringMatching(
        /^hook `.*` \(post_tool_use\) asked to block, but only pre_tool_use hooks can block: the hook exited with code 2 without giving a reason$/,
      ),
    ]);
    expect(JSON.parse(readFileSync(post, "utf8")).stdin).toEqual({
      event: "post_tool_use",
      thread_id: "t",
      turn_id: "u",
      cwd: dir,
      tool_name: "apply_patch",
      tool_input: "*** Begin Patch\n*** End Patch",
      tool_output: "Done",
    });
    expect(atStop).toEqual({ warnings: [] });
    expect(JSON.parse(readFileSync(stop, "utf8")).stdin).toEqual({
      event: "stop",
      thread_id: "t",
      turn_id: "u",
      cwd: dir,
      final_message: "All green.",
    });
  });

  it("ignores the matcher for session_start and runs nothing when no hook is configured", async () => {
    const out = join(dir, "start.json");
    const runner = createHookRunner(config({ session_start: [{ ...recorder(out), matcher: "nothing" }] }), {
      cwd: dir,
      env,
    });

    expect(await runner.run("session_start", { threadId: "t" })).toEqual({ warnings: [] });
    expect(JSON.parse(readFileSync(out, "utf8")).stdin).toEqual({
      event: "session_start",
      thread_id: "t",
      cwd: dir,
    });
    expect(await runner.run("stop", { threadId: "t" })).toEqual({ warnings: [] });
  });

  it("kills the hook and throws turn_interrupted when the turn is interrupted", async () => {
    const runner = createHookRunner(config({ pre_tool_use: [{ command: "sleep 20" }] }), { cwd: dir, env });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const started = performance.now();

    const error = await runner
      .run("pre_tool_use", { threadId: "t", toolName: "x" }, controller.signal)
      .catch((e) => e);

    expect(error).toBeInstanceOf(KilnError);
    expect((error as KilnError).code).toBe("turn_interrupted");
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});

describe("HooksConfig", () => {
  it("defaults every event to no hooks and refuses a misspelt event, an empty command or a bad regex", () => {
    expect(HooksConfig.parse({})).toEqual({
      session_start: [],
      pre_tool_use: [],
      post_tool_use: [],
      stop: [],
    });
    expect(HooksConfig.safeParse({ PreToolUse: [] }).success).toBe(false);
    expect(HooksConfig.safeParse({ pre_tool_use: [{ command: [] }] }).success).toBe(false);
    expect(HooksConfig.safeParse({ pre_tool_use: [{ command: "x", matcher: "(" }] }).success).toBe(false);
    expect(HooksConfig.safeParse({ pre_tool_use: [{ command: "x", timeout: 5 }] }).success).toBe(false);
  });
});
