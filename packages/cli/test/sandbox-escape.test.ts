// The agent tries to leave its workspace in every way the issue names; each attempt fails inside the
// real bubblewrap sandbox (Kiln running as root here, so the uid drop is exercised too) and the model
// gets an error it can read.
import { existsSync } from "node:fs";
import { symlink, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runKiln, useCliHarness } from "./run-kiln.ts";

const cli = useCliHarness();
let outside: string;
let listener: Server;
let connections = 0;

beforeEach(async () => {
  outside = await cli.tempDir("kiln-outside-");
  await writeFile(join(outside, "secret.txt"), "TOP-SECRET-VALUE\n");
  connections = 0;
  listener = createServer((socket) => {
    connections++;
    socket.end("hello from the host\n");
  });
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
});

afterEach(async () => {
  await new Promise<void>((resolve) => listener.close(() => resolve()));
});

describe("the sandbox holds against escape attempts", () => {
  it("denies writing outside, reading /etc/shadow, reaching the host's 127.0.0.1 and escaping through a symlink", async () => {
    const { server, home } = cli;
    const repo = await cli.tempRepo({ "README.md": "workspace\n" });
    await symlink(outside, join(repo.dir, "link"));
    const port = (listener.address() as { port: number }).port;
    const attempts = [
      "echo pwned > /etc/kiln-escape-test",
      "echo pwned > /var/tmp/kiln-escape-test",
      "cat /etc/shadow",
      `exec 3<>/dev/tcp/127.0.0.1/${port} && cat <&3`,
      "echo pwned > link/escaped.txt",
      "cat link/secret.txt",
    ];
    server.setScenario({
      steps: [
        { output: attempts.map((cmd) => ({ type: "exec_command" as const, cmd })) },
        {
          output: [
            {
              type: "apply_patch",
              patch: "*** Begin Patch\n*** Add File: link/patched.txt\n+pwned\n*** End Patch\n",
            },
          ],
        },
        { output: [{ type: "message", text: "I could not get out." }] },
      ],
    });
    const run = await runKiln(["exec", "--json", "try to escape"], { cwd: repo.dir, env: home.env });
    expect(run.code).toBe(0);

    const commands = run.events.flatMap((e) =>
      e.type === "item.completed" && e.item.type === "command_execution" ? [e.item] : [],
    );
    expect(commands.map((c) => c.command)).toEqual(attempts);
    for (const c of commands) {
      expect(c.exit_code, c.command).not.toBe(0);
      expect(c.status, c.command).toBe("failed");
    }
    expect(commands[0]?.aggregated_output).toMatch(/Read-only file system|Permission denied/);
    expect(commands[1]?.aggregated_output).toMatch(/Read-only file system|Permission denied|No such file/);
    expect(commands[2]?.aggregated_output).toMatch(/Permission denied/);
    expect(commands[3]?.aggregated_output).toMatch(/Connection refused|Network is unreachable|Cannot assign/);
    expect(commands[4]?.aggregated_output).toMatch(
      /No such file or directory|Read-only file system|Permission denied/,
    );
    expect(commands[5]?.aggregated_output).toMatch(/No such file or directory|Permission denied/);
    expect(run.stdout).not.toContain("TOP-SECRET-VALUE");
    expect(run.stdout).not.toMatch(/root:[^:\n]*:\d+:/);

    const patch = run.events.find((e) => e.type === "item.completed" && e.item.type === "file_change");
    expect(patch).toMatchObject({ item: { status: "failed" } });
    const patchRequest = cli.requestBody(2);
    const patchOutput = patchRequest.input.find((i) => i.type === "custom_tool_call_output");
    expect(patchOutput?.output).toMatch(/outside the workspace/);

    expect(connections).toBe(0);
    expect(existsSync("/etc/kiln-escape-test")).toBe(false);
    expect(existsSync("/var/tmp/kiln-escape-test")).toBe(false);
    expect(existsSync(join(outside, "escaped.txt"))).toBe(false);
    expect(existsSync(join(outside, "patched.txt"))).toBe(false);
  });
});
