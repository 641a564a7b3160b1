import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runKiln, useCliHarness } from "./run-kiln.ts";

const cli = useCliHarness();
const { requestBody } = cli;

describe("kiln exec on the Chat Completions wire", () => {
  it("runs commands and patches through an OpenAI-compatible provider configured in config.toml", async () => {
    const { server, home } = cli;
    const repo = await cli.tempRepo({ "hello.txt": "hello\n" });
    await writeFile(
      join(home.home, "config.toml"),
      `model = "llama3"\nmodel_provider = "local"\n\n[model_providers.local]\nbase_url = "${server.url}"\nwire_api = "chat"\nenv_key = "LOCAL_KEY"\n`,
    );
    server.setScenario({
      steps: [
        { output: [{ type: "exec_command", cmd: "cat hello.txt" }] },
        {
          output: [
            {
              type: "apply_patch",
              patch: "*** Begin Patch\n*** Update File: hello.txt\n-hello\n+hello, world\n*** End Patch\n",
            },
          ],
        },
        { output: [{ type: "message", text: "Updated hello.txt." }] },
      ],
    });
    const run = await runKiln(["exec", "--json", "greet the world"], {
      cwd: repo.dir,
      env: { ...home.env, LOCAL_KEY: "local-secret" },
    });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(await readFile(join(repo.dir, "hello.txt"), "utf8")).toBe("hello, world\n");
    expect(server.requests.map((r) => r.path)).toEqual([
      "/v1/chat/completions",
      "/v1/chat/completions",
      "/v1/chat/completions",
    ]);
    expect(server.requests[0]?.headers.authorization).toBe("Bearer local-secret");
    const last = server.requests[2]?.body as {
      messages: { role: string; content: string | null; tool_call_id?: string }[];
    };
    expect(last.messages.map((m) => m.role)).toEqual([
      "system",
      "system",
      "user",
      "user",
      "assistant",
      "tool",
      "assistant",
      "tool",
    ]);
    expect(last.messages.at(-1)?.content).toBe("Success. Updated the following files:\nM hello.txt\n");
  });
});

describe("kiln exec options", () => {
  it("reads the prompt from standard input and writes the last message to -o", async () => {
    const { server, home } = cli;
    const repo = await cli.tempRepo({ "a.txt": "a\n" });
    server.setScenario({ steps: [{ output: [{ type: "message", text: "Answer from stdin." }] }] });
    const run = await runKiln(["exec", "-o", "last.txt", "-"], {
      cwd: repo.dir,
      env: home.env,
      stdin: "prompt on stdin\n",
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe("Answer from stdin.\n");
    expect(run.stderr).toContain("Answer from stdin.");
    expect(await readFile(join(repo.dir, "last.txt"), "utf8")).toBe("Answer from stdin.\n");
    const body = server.requests[0]?.body as { input: { role: string; content: { text: string }[] }[] };
    expect(body.input.at(-1)?.content[0]?.text).toBe("prompt on stdin");
  });

  it("streams human-readable progress: commands with output and exit codes, patches as diffs", async () => {
    const { server, home } = cli;
    const repo = await cli.tempRepo({ "a.txt": "one\n" });
    server.setScenario({
      steps: [
        { output: [{ type: "exec_command", cmd: "cat a.txt" }] },
        {
          output: [
            {
              type: "apply_patch",
              patch: "*** Begin Patch\n*** Update File: a.txt\n-one\n+two\n*** End Patch\n",
            },
          ],
        },
        { output: [{ type: "update_plan", plan: [{ step: "Change a.txt", status: "completed" }] }] },
        { output: [{ type: "message", text: "Done." }] },
      ],
    });
    const run = await runKiln(["exec", "change a.txt"], { cwd: repo.dir, env: home.env });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe("Done.\n");
    expect(run.stderr).toContain("exec cat a.txt");
    expect(run.stderr).toMatch(/ {2}one\n {2}✓ exit 0 in \d+ ms/);
    expect(run.stderr).toContain("✓ apply_patch M a.txt");
    expect(run.stderr).toContain("  -one");
    expect(run.stderr).toContain("  +two");
    expect(run.stderr).toContain("[x] Change a.txt");
    expect(run.stderr).toMatch(/tokens used: [\d,]+/);
  });

  it("keeps a long command running in the background and continues it with write_stdin, in a PTY", async () => {
    const { server, home } = cli;
    const repo = await cli.tempRepo({ "a.txt": "a\n" });
    server.setScenario({
      steps: [
        {
          output: [
            {
              type: "exec_command",
              cmd: "tty >/dev/null && echo has-tty; read line; echo got:$line",
              tty: true,
              yield_time_ms: 300,
            },
          ],
        },
        { output: [{ type: "write_stdin", session_id: 1000, chars: "ping\n", yield_time_ms: 2000 }] },
        { output: [{ type: "message", text: "Talked to it." }] },
      ],
    });
    const run = await runKiln(["exec", "--json", "talk"], { cwd: repo.dir, env: home.env });
    expect(run.code).toBe(0);
    const outputs = server.requests
      .slice(1)
      .map(
        (r) =>
          (r.body as { input: { type: string; output?: string }[] }).input
            .filter((i) => i.type === "function_call_output")
            .at(-1)?.output,
      );
    expect(outputs[0]).toMatch(/^Process running with session ID 1000\n[\s\S]*has-tty/);
    expect(outputs[1]).toMatch(/^Exit code: 0\n[\s\S]*got:ping/);
  });
});

describe("extra inputs", () => {
  it("lets the agent write in an --add-dir root, and nowhere else outside the workspace", async () => {
    const { server, home } = cli;
    const repo = await cli.tempRepo({ "a.txt": "a\n" });
    const extra = await cli.tempDir("kiln-extra-");
    server.setScenario({
      steps: [
        { output: [{ type: "exec_command", cmd: `echo from-sandbox > ${extra}/cmd.txt` }] },
        { output: [{ type: "message", text: "wrote" }] },
      ],
    });
    const run = await runKiln(["exec", "--json", "--add-dir", extra, "write there"], {
      cwd: repo.dir,
      env: home.env,
    });
    expect(run.code).toBe(0);
    expect(await readFile(join(extra, "cmd.txt"), "utf8")).toBe("from-sandbox\n");
  });

  it("sends --image files to the model as data URLs with the prompt", async () => {
    const { server, home } = cli;
    const repo = await cli.tempRepo({ "a.txt": "a\n" });
    const png = Buffer.from("89504e470d0a1a0a", "hex");
    await writeFile(join(repo.dir, "shot.png"), png);
    server.setScenario({ steps: [{ output: [{ type: "message", text: "I see it." }] }] });
    const run = await runKiln(["exec", "--json", "--image", "shot.png", "what is this?"], {
      cwd: repo.dir,
      env: home.env,
    });
    expect(run.code).toBe(0);
    const body = requestBody(0);
    expect(body.input.at(-1)?.content).toEqual([
      { type: "input_text", text: "what is this?" },
      { type: "input_image", image_url: `data:image/png;base64,${png.toString("base64")}` },
    ]);
  });
});

describe("bad usage exits 2 with a message that says what to do", () => {
  it.each([
    [
      ["exec", "--sandbox", "wide-open", "hi"],
      /--sandbox: "wide-open" is not one of read-only, workspace-write, danger-full-access/,
    ],
    [["exec", "--frobnicate", "hi"], /unknown option --frobnicate/],
    [["exec", "one", "two"], /expected one prompt/],
    [["exec", "resume"], /resume needs a thread id or --last/],
    [
      ["exec", "-c", "approval_policy=sometimes", "hi"],
      /-c approval_policy=sometimes: key "approval_policy"/,
    ],
    [["exec", "--profile", "nope", "hi"], /profile "nope" is not defined/],
    [["exec", "resume", "thr_bogus", "hi"], /"thr_bogus" is not a thread id/],
    [["frobnicate"], /unknown command "frobnicate"/],
  ])("kiln %j", async (args, message) => {
    const { server, home } = cli;
    const repo = await cli.tempRepo({ "a.txt": "a\n" });
    const run = await runKiln(args, { cwd: repo.dir, env: home.env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(server.requests).toHaveLength(0);
  });

  it("refuses to run outside a git repository unless --skip-git-repo-check is given", async () => {
    const { server, home } = cli;
    const dir = await cli.tempDir("kiln-nogit-");
    const refused = await runKiln(["exec", "hi"], { cwd: dir, env: home.env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/not inside a git repository.*--skip-git-repo-check/);
    server.setScenario({ steps: [{ output: [{ type: "message", text: "ok" }] }] });
    const allowed = await runKiln(["exec", "--skip-git-repo-check", "hi"], { cwd: dir, env: home.env });
    expect(allowed.code).toBe(0);
  });

  it("names the file and the key of a bad config.toml value", async () => {
    const { home } = cli;
    const repo = await cli.tempRepo({ "a.txt": "a\n" });
    await writeFile(join(home.home, "config.toml"), 'sandbox_mode = "everything"\n');
    const run = await runKiln(["exec", "hi"], { cwd: repo.dir, env: home.env });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(join(home.home, "config.toml"));
    expect(run.stderr).toContain('key "sandbox_mode"');
    expect(run.stderr).toContain('(found "everything")');
  });

  it("says which variable to set when the API key is missing", async () => {
    const { home } = cli;
    const repo = await cli.tempRepo({ "a.txt": "a\n" });
    const { OPENAI_API_KEY: _, ...env } = home.env;
    const run = await runKiln(["exec", "hi"], { cwd: repo.dir, env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/OPENAI_API_KEY is not set: export OPENAI_API_KEY=<your key>/);
  });
});

describe("kiln exec on the Anthropic Messages wire", () => {
  it("runs a tool round trip with the built-in anthropic provider", async () => {
    const { server, home } = cli;
    const repo = await cli.tempRepo({ "a.txt": "anthropic\n" });
    await writeFile(
      join(home.home, "config.toml"),
      `model_provider = "anthropic"\nmodel = "claude-sonnet-4-6"\n\n[model_providers.anthropic]\nbase_url = "${server.url.replace(/\/v1$/, "")}"\n`,
    );
    server.setScenario({
      steps: [
        { output: [{ type: "exec_command", cmd: "cat a.txt" }] },
        { output: [{ type: "message", text: "It says anthropic." }] },
      ],
    });
    const run = await runKiln(["exec", "--json", "read a.txt"], {
      cwd: repo.dir,
      env: { ...home.env, ANTHROPIC_API_KEY: "ant-key" },
    });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(server.requests.map((r) => r.path)).toEqual(["/v1/messages", "/v1/messages"]);
    const second = server.requests[1]?.body as {
      messages: { role: string; content: { type: string }[] }[];
    };
    expect(second.messages.map((m) => `${m.role}:${m.content.map((c) => c.type).join("+")}`)).toEqual([
      "user:text+text",
      "assistant:tool_use",
      "user:tool_result",
    ]);
    expect(run.events.at(-2)).toEqual({
      type: "item.completed",
      item: { id: "item_1", type: "agent_message", text: "It says anthropic." },
    });
  });
});
