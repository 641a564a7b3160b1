// Collaboration modes through the embedding API, against the fake model server and the real sandbox:
// plan mode explores read-only and proposes a plan that approvePlan() carries out in code mode;
// execute mode never asks.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { foldTurn, type PendingApproval } from "@kiln/core";
import { describe, expect, it } from "vitest";
import { useKilnHarness } from "./harness.ts";

const harness = useKilnHarness();
const { messages, requestBody } = harness;

function toolNames(index: number): string[] {
  return requestBody(index).tools.map((t) => t.name);
}

describe("plan mode", () => {
  it("offers no writing tools, runs commands read-only and announces itself to the model", async () => {
    const { server, kiln, repo } = harness;
    server.setScenario({
      steps: [
        { output: [{ type: "exec_command", cmd: "echo x > f.txt" }] },
        { output: [{ type: "message", text: "<proposed_plan>1. do X</proposed_plan>" }] },
      ],
    });
    const thread = kiln.startThread({ cwd: repo.dir, mode: "plan", approvalPolicy: "never" });
    const result = await thread.run("plan a change");
    thread.close();

    expect(result.status).toBe("completed");
    // Other tools (sub-agents, MCP) come and go; what matters is that nothing that writes is offered.
    for (const index of [0, 1]) {
      expect(toolNames(index)).toEqual(expect.arrayContaining(["exec_command", "update_plan"]));
      expect(toolNames(index)).not.toContain("apply_patch");
      expect(toolNames(index)).not.toContain("write_stdin");
    }
    expect(result.items[1]).toMatchObject({
      type: "commandExecution",
      command: "echo x > f.txt",
      status: "failed",
    });
    expect(await repo.git("status", "--porcelain")).toBe("");
    const developer = messages(0, "developer");
    expect(developer.at(-1)).toMatch(
      /^<collaboration_mode>plan<\/collaboration_mode>\nYou are in PLAN mode\./,
    );
    expect(thread.lastProposedPlan).toBe("1. do X");
  });

  it("records the read-only sandbox, no approvals and the plan mode in the turn's context", async () => {
    const { server, kiln, repo } = harness;
    server.setScenario({
      steps: [{ output: [{ type: "message", text: "<proposed_plan>1. a</proposed_plan>" }] }],
    });
    const thread = kiln.startThread({ cwd: repo.dir, mode: "plan", approvalPolicy: "on-request" });
    await thread.run("plan");
    thread.close();
    const contexts = (await readFile(thread.rolloutPath, "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { kind: string; payload: Record<string, unknown> })
      .filter((l) => l.kind === "turn_context")
      .map((l) => l.payload);
    expect(contexts).toEqual([
      {
        turnId: expect.any(String),
        model: "gpt-5.5",
        modelProvider: "openai",
        sandbox: "read-only",
        approvalPolicy: "never", // plan mode escalates nothing
        mode: "plan",
        cwd: repo.dir,
      },
    ]);
  });

  it("carries out the approved plan in a code-mode turn that offers apply_patch again", async () => {
    const { server, kiln, repo } = harness;
    server.setScenario({
      steps: [
        { output: [{ type: "message", text: "Here it is.\n<proposed_plan>\n1. do X\n</proposed_plan>" }] },
        {
          output: [
            { type: "apply_patch", patch: "*** Begin Patch\n*** Add File: x.txt\n+X\n*** End Patch\n" },
          ],
        },
        { output: [{ type: "message", text: "Did X." }] },
      ],
    });
    const thread = kiln.startThread({ cwd: repo.dir, mode: "plan", approvalPolicy: "never" });
    await thread.run("plan X");
    expect(thread.lastProposedPlan).toBe("1. do X");

    const result = await foldTurn(thread.approvePlan());
    thread.close();

    expect(result.status).toBe("completed");
    expect(result.finalResponse).toBe("Did X.");
    expect(thread.info.mode).toBe("code");
    expect(thread.lastProposedPlan).toBeUndefined();
    expect(toolNames(1)).toEqual(
      expect.arrayContaining(["exec_command", "write_stdin", "apply_patch", "update_plan"]),
    );
    expect(messages(1, "user").at(-1)).toBe("The plan is approved. Implement it now:\n\n1. do X");
    expect(messages(1, "developer").at(-1)).toMatch(/^<collaboration_mode>code<\/collaboration_mode>/);
    expect(await readFile(join(repo.dir, "x.txt"), "utf8")).toBe("X\n");
  });

  it("refuses approvePlan when no plan was proposed", () => {
    const { kiln, repo } = harness;
    const thread = kiln.startThread({ cwd: repo.dir, approvalPolicy: "never" });
    expect(() => thread.approvePlan()).toThrow(
      "there is no proposed plan to approve: run a turn in plan mode first",
    );
    thread.close();
  });
});

describe("execute mode", () => {
  it("never asks, even under the untrusted policy: commands run and escalations are declined", async () => {
    const { server, kiln, repo } = harness;
    server.setScenario({
      steps: [
        { output: [{ type: "exec_command", cmd: "touch made.txt" }] },
        {
          output: [
            {
              type: "exec_command",
              cmd: "touch escaped.txt",
              sandbox_permissions: "require_escalated",
              justification: "outside",
            },
          ],
        },
        { output: [{ type: "message", text: "done" }] },
      ],
    });
    const asked: PendingApproval[] = [];
    const thread = kiln.startThread({
      cwd: repo.dir,
      mode: "execute",
      approvalPolicy: "untrusted",
      onApproval: (request) => {
        asked.push(request);
        return "approved";
      },
    });
    const result = await thread.run("do it all");
    thread.close();

    expect(asked).toEqual([]);
    expect(
      result.items
        .filter((i) => i.type === "commandExecution")
        .map((i) => ({ command: i.command, status: i.status })),
    ).toEqual([
      { command: "touch made.txt", status: "completed" },
      { command: "touch escaped.txt", status: "declined" },
    ]);
    expect(existsSync(join(repo.dir, "made.txt"))).toBe(true);
    expect(messages(0, "developer").at(-1)).toMatch(/^<collaboration_mode>execute<\/collaboration_mode>/);
  });
});

describe("plan mode and tools outside the sandbox", () => {
  it("refuses a mutating dynamic tool and lets a read-only one run", async () => {
    const { server, kiln, repo } = harness;
    const { z } = await import("zod");
    const calls: string[] = [];
    server.setScenario({
      steps: [
        {
          output: [
            { type: "function_call", name: "deploy", arguments: {} },
            { type: "function_call", name: "status", arguments: {} },
          ],
        },
        { output: [{ type: "message", text: "<proposed_plan>1. deploy</proposed_plan>" }] },
      ],
    });
    const thread = kiln.startThread({
      cwd: repo.dir,
      mode: "plan",
      tools: [
        {
          name: "deploy",
          description: "Deploys",
          parameters: z.object({}),
          execute: () => calls.push("deploy"),
        },
        {
          name: "status",
          description: "Status",
          parameters: z.object({}),
          readOnly: true,
          execute: () => calls.push("status"),
        },
      ],
    });
    await thread.run("plan a deploy");
    thread.close();
    expect(calls).toEqual(["status"]);
    const body = requestBody(1);
    expect(body.input.filter((i) => i.type === "function_call_output")[0]?.output).toMatch(
      /^Error: plan mode is read-only: deploy/,
    );
  });
});
