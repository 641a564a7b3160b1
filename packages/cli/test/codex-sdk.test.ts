// Kiln as a drop-in for the `codex` binary under the official @openai/codex-sdk.
import { fileURLToPath } from "node:url";
import { Codex } from "@openai/codex-sdk";
import { describe, expect, it } from "vitest";
import { useCliHarness } from "./run-kiln.ts";

const KILN = fileURLToPath(new URL("../../../kiln", import.meta.url));

const cli = useCliHarness();
const { requestBody } = cli;

describe("@openai/codex-sdk with codexPathOverride: ./kiln", () => {
  it("runs a thread, then resumes it by id with its history", async () => {
    const { server, home } = cli;
    const repo = await cli.tempRepo({ "notes.txt": "one\n" });
    server.setScenario({
      steps: [
        {
          output: [{ type: "exec_command", cmd: "cat notes.txt" }],
        },
        { output: [{ type: "message", text: "The file says one." }] },
        { output: [{ type: "message", text: "You asked about notes.txt before." }] },
      ],
    });
    const codex = new Codex({
      codexPathOverride: KILN,
      baseUrl: server.url,
      apiKey: "sdk-key",
      env: home.env,
    });
    const thread = codex.startThread({
      workingDirectory: repo.dir,
      sandboxMode: "workspace-write",
      approvalPolicy: "never",
      model: "gpt-sdk",
      networkAccessEnabled: false,
      modelReasoningEffort: "low",
    });
    const first = await thread.run("what does notes.txt say?");
    expect(first.finalResponse).toBe("The file says one.");
    expect(first.items.map((i) => i.type)).toEqual(["command_execution", "agent_message"]);
    expect(first.items[0]).toMatchObject({
      type: "command_execution",
      command: "cat notes.txt",
      exit_code: 0,
      status: "completed",
    });
    expect(first.usage).toMatchObject({
      input_tokens: expect.any(Number),
      output_tokens: expect.any(Number),
    });
    expect(thread.id).toMatch(/^thr_/);

    const firstRequest = server.requests[0];
    expect(firstRequest?.headers.authorization).toBe("Bearer sdk-key");
    expect(firstRequest?.body).toMatchObject({ model: "gpt-sdk", reasoning: { effort: "low" } });

    const resumed = codex.resumeThread(thread.id ?? "", { workingDirectory: repo.dir, model: "gpt-sdk" });
    const second = await resumed.run("what did I ask before?");
    expect(second.finalResponse).toBe("You asked about notes.txt before.");
    const last = requestBody(-1);
    const userTexts = last.input
      .filter((i) => i.type === "message" && i.role === "user")
      .map((i) => i.content?.[0]?.text);
    expect(userTexts.slice(-2)).toEqual(["what does notes.txt say?", "what did I ask before?"]);
  });

  it("returns a final message that matches an output schema", async () => {
    const { server, home } = cli;
    const repo = await cli.tempRepo({ "a.txt": "a\n" });
    server.setScenario({
      steps: [
        { output: [{ type: "message", text: "not json" }] },
        { output: [{ type: "message", text: '{"summary":"ok","files":2}' }] },
      ],
    });
    const codex = new Codex({ codexPathOverride: KILN, baseUrl: server.url, apiKey: "k", env: home.env });
    const thread = codex.startThread({ workingDirectory: repo.dir, approvalPolicy: "never" });
    const schema = {
      type: "object",
      properties: { summary: { type: "string" }, files: { type: "number" } },
      required: ["summary", "files"],
      additionalProperties: false,
    };
    const turn = await thread.run("summarise", { outputSchema: schema });
    expect(JSON.parse(turn.finalResponse)).toEqual({ summary: "ok", files: 2 });
    expect(server.requests[0]?.body).toMatchObject({ text: { format: { type: "json_schema", schema } } });
    const retry = requestBody(1);
    expect(retry.input.at(-1)?.content?.[0]?.text).toMatch(/must be JSON that matches the output schema/);
  });

  it("surfaces a failed turn as an error thrown by thread.run", async () => {
    const { server, home } = cli;
    const repo = await cli.tempRepo({ "a.txt": "a\n" });
    server.setScenario({
      steps: [{ fault: { type: "http", status: 400, body: { error: { message: "no such model" } } } }],
    });
    const codex = new Codex({ codexPathOverride: KILN, baseUrl: server.url, apiKey: "k", env: home.env });
    const thread = codex.startThread({ workingDirectory: repo.dir });
    await expect(thread.run("hi")).rejects.toThrow(/no such model/);
  });
});
