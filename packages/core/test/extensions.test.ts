// Sub-agents, MCP servers, hooks, skills and custom prompts, each configured the way a user would and
// driven through a real thread against the fake model server.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Kiln } from "@kiln/core";
import type { EventEnvelope } from "@kiln/protocol";
import { describe, expect, it } from "vitest";
import { useKilnHarness } from "./harness.ts";
import { ECHO_SERVER } from "./mcp-harness.ts";

const harness = useKilnHarness({ env: { PATH: process.env.PATH } });
const { requestBodies: bodies } = harness;

/** The harness's Kiln, after writing `config` as $KILN_HOME/config.toml. */
async function kiln(config = ""): Promise<Kiln> {
  await harness.writeConfig(config);
  return harness.kiln;
}

describe("sub-agents", () => {
  it("spawns a child thread that works in parallel, waits for it, and rolls its usage and events into the parent", async () => {
    const { server, repo, home } = harness;
    server.setScenario({
      steps: [
        {
          when: { bodyIncludes: "PARENT-TASK" },
          output: [
            {
              type: "function_call",
              name: "spawn_agent",
              arguments: { message: "CHILD-TASK: count the files" },
            },
          ],
          usage: { input_tokens: 10, output_tokens: 1 },
        },
        {
          when: { bodyIncludes: "PARENT-TASK" },
          output: [{ type: "function_call", name: "wait_agent", arguments: {} }],
          usage: { input_tokens: 10, output_tokens: 1 },
        },
        {
          when: { bodyIncludes: "PARENT-TASK" },
          output: [{ type: "message", text: "The child says: one file." }],
          usage: { input_tokens: 10, output_tokens: 1 },
        },
        {
          when: { bodyIncludes: "CHILD-TASK" },
          output: [{ type: "exec_command", cmd: "ls" }],
          usage: { input_tokens: 100, output_tokens: 5 },
        },
        {
          when: { bodyIncludes: "CHILD-TASK" },
          output: [{ type: "message", text: "one file" }],
          usage: { input_tokens: 100, output_tokens: 5 },
        },
      ],
    });
    const thread = (await kiln()).startThread({ cwd: repo.dir, approvalPolicy: "never" });
    const events: EventEnvelope[] = [];
    for await (const e of thread.runStreamed("PARENT-TASK: delegate")) events.push(e);
    thread.close();
    const done = events.at(-1)?.event;
    expect(done).toMatchObject({ type: "turn/completed", status: "completed" });
    // 3 parent calls of 11 tokens + 2 child calls of 105.
    expect(done?.type === "turn/completed" && done.usage.totalTokens).toBe(3 * 11 + 2 * 105);
    const parent = bodies().filter((b) => JSON.stringify(b).includes("PARENT-TASK"));
    const waited = parent[2]?.input.filter((i) => i.type === "function_call_output").at(-1)?.output ?? "";
    expect(JSON.parse(waited)).toEqual([
      { agent_id: expect.stringMatching(/^thr_/), status: "completed", final_message: "one file" },
    ]);
    const childItems = events.flatMap((e) => (e.event.type === "subAgent/item" ? [e.event.item.type] : []));
    expect(childItems).toEqual(["commandExecution", "agentMessage"]);
    // The child has its own rollout, linked to its parent.
    const childId = JSON.parse(waited)[0].agent_id as string;
    const { findRollout } = await import("@kiln/core");
    const first = (await readFile(findRollout(home, childId), "utf8")).split("\n")[0] ?? "";
    expect(JSON.parse(first).payload).toMatchObject({ id: childId, parentThreadId: thread.id });
  });

  it("enforces the depth limit: a child at the limit is not offered spawn_agent", async () => {
    const { server, repo } = harness;
    server.setScenario({
      steps: [
        {
          when: { bodyIncludes: "PARENT-TASK" },
          output: [{ type: "function_call", name: "spawn_agent", arguments: { message: "CHILD-TASK" } }],
        },
        {
          when: { bodyIncludes: "PARENT-TASK" },
          output: [{ type: "function_call", name: "wait_agent", arguments: {} }],
        },
        { when: { bodyIncludes: "PARENT-TASK" }, output: [{ type: "message", text: "done" }] },
        {
          when: { bodyIncludes: "CHILD-TASK" },
          output: [{ type: "function_call", name: "spawn_agent", arguments: { message: "GRANDCHILD" } }],
        },
        { when: { bodyIncludes: "CHILD-TASK" }, output: [{ type: "message", text: "could not nest" }] },
      ],
    });
    const thread = (await kiln("[sub_agents]\nmax_depth = 1\n")).startThread({
      cwd: repo.dir,
      approvalPolicy: "never",
    });
    await thread.run("PARENT-TASK");
    thread.close();
    const child = bodies().filter(
      (b) => JSON.stringify(b).includes("CHILD-TASK") && !JSON.stringify(b).includes("PARENT-TASK"),
    );
    expect(child[0]?.tools.map((t) => t.name)).not.toContain("spawn_agent");
    expect(child[1]?.input.find((i) => i.type === "function_call_output")?.output).toMatch(
      /^Error: unknown tool "spawn_agent"/,
    );
  });
});

describe("MCP servers from config.toml", () => {
  it("offers a stdio server's tools as NAME__tool and shows calls as mcpToolCall items", async () => {
    const { server, repo } = harness;
    server.setScenario({
      steps: [
        { output: [{ type: "function_call", name: "echo_srv__echo", arguments: { text: "hi there" } }] },
        { output: [{ type: "message", text: "echoed" }] },
      ],
    });
    const config = `[mcp_servers.echo_srv]\ncommand = ${JSON.stringify(process.execPath)}\nargs = [${JSON.stringify(ECHO_SERVER)}]\n`;
    const thread = (await kiln(config)).startThread({ cwd: repo.dir, approvalPolicy: "never" });
    const result = await thread.run("use the echo tool");
    thread.close();
    expect(bodies()[0]?.tools.map((t) => t.name)).toContain("echo_srv__echo");
    expect(result.items.find((i) => i.type === "mcpToolCall")).toMatchObject({
      server: "echo_srv",
      tool: "echo",
      status: "completed",
    });
    expect(bodies()[1]?.input.find((i) => i.type === "function_call_output")?.output).toContain("hi there");
  });

  it("turns a server that fails to start into a warning, not a crash", async () => {
    const { server, repo } = harness;
    server.setScenario({ steps: [{ output: [{ type: "message", text: "fine" }] }] });
    const thread = (await kiln('[mcp_servers.broken]\ncommand = "/nonexistent/mcp-server"\n')).startThread({
      cwd: repo.dir,
      approvalPolicy: "never",
    });
    const warnings: string[] = [];
    for await (const { event } of thread.runStreamed("hi"))
      if (event.type === "warning") warnings.push(event.message);
    thread.close();
    expect(warnings).toEqual([expect.stringMatching(/^mcp server "broken" failed to start/)]);
  });
});

describe("hooks from config.toml", () => {
  it("blocks a tool call with a pre_tool_use hook and tells the model why; runs session_start and stop", async () => {
    const { server, repo, home } = harness;
    const log = join(home, "hook.log");
    const guard = join(home, "guard.sh");
    await writeFile(
      guard,
      `#!/bin/sh\ncat >> ${log}\necho >> ${log}\necho "no rm in this repo" >&2\nexit 2\n`,
      { mode: 0o755 },
    );
    const recorder = join(home, "record.sh");
    await writeFile(recorder, `#!/bin/sh\ncat >> ${log}\necho >> ${log}\n`, { mode: 0o755 });
    server.setScenario({
      steps: [
        { output: [{ type: "exec_command", cmd: "rm a.txt" }] },
        { output: [{ type: "message", text: "ok, not removing" }] },
      ],
    });
    const config = `[[hooks.pre_tool_use]]\nmatcher = "exec_command"\ncommand = [${JSON.stringify(guard)}]\n\n[[hooks.session_start]]\ncommand = [${JSON.stringify(recorder)}]\n\n[[hooks.stop]]\ncommand = [${JSON.stringify(recorder)}]\n`;
    const thread = (await kiln(config)).startThread({ cwd: repo.dir, approvalPolicy: "never" });
    await thread.run("clean up");
    thread.close();
    expect(await readFile(join(repo.dir, "a.txt"), "utf8")).toBe("alpha\n");
    expect(bodies()[1]?.input.find((i) => i.type === "function_call_output")?.output).toBe(
      "Error: blocked by hook: no rm in this repo",
    );
    const events = (await readFile(log, "utf8"))
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => JSON.parse(l) as { event: string; tool_name?: string; tool_input?: unknown });
    expect(events.map((e) => e.event)).toEqual(["session_start", "pre_tool_use", "stop"]);
    expect(events[1]).toMatchObject({ tool_name: "exec_command", tool_input: { cmd: "rm a.txt" } });
  });
});

describe("skills and custom prompts", () => {
  it("lists skills to the model and loads one on demand with load_skill", async () => {
    const { server, repo } = harness;
    const skill = join(repo.dir, ".kiln", "skills", "release");
    await mkdir(skill, { recursive: true });
    await writeFile(
      join(skill, "SKILL.md"),
      "---\nname: release\ndescription: How to cut a release\n---\nBump the version, tag, push.\n",
    );
    server.setScenario({
      steps: [
        { output: [{ type: "function_call", name: "load_skill", arguments: { name: "release" } }] },
        { output: [{ type: "message", text: "ready" }] },
      ],
    });
    const thread = (await kiln()).startThread({ cwd: repo.dir, approvalPolicy: "never" });
    await thread.run("cut a release");
    thread.close();
    const developer = bodies()[0]?.input.find((i) => i.role === "developer")?.content?.[0]?.text ?? "";
    expect(developer).toMatch(/- release: How to cut a release/);
    expect(bodies()[1]?.input.find((i) => i.type === "function_call_output")?.output).toContain(
      "Bump the version, tag, push.",
    );
  });

  it("expands /NAME args from $KILN_HOME/prompts before the model sees the prompt", async () => {
    const { server, repo, home } = harness;
    await mkdir(join(home, "prompts"));
    await writeFile(
      join(home, "prompts", "review.md"),
      "---\ndescription: Review a file\n---\nReview $1 for bugs. Focus: $ARGUMENTS\n",
    );
    server.setScenario({ steps: [{ output: [{ type: "message", text: "reviewed" }] }] });
    const thread = (await kiln()).startThread({ cwd: repo.dir, approvalPolicy: "never" });
    await thread.run("/review a.txt");
    thread.close();
    expect(bodies()[0]?.input.at(-1)?.content?.[0]?.text).toBe("Review a.txt for bugs. Focus: a.txt");
  });
});
