// What a sandboxed command (or the model) might try against the host through Kiln itself: planting
// config or git hooks for the host to run, symlinking secrets into files Kiln reads on the host,
// choosing a working directory outside the workspace, and flooding Kiln's memory with output.
import { mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useKilnHarness } from "./harness.ts";

const harness = useKilnHarness();

describe("the host side of the sandbox", () => {
  it("keeps .git read-only inside the writable workspace, so no hook can be planted for the host", async () => {
    const { server, kiln, repo } = harness;
    server.setScenario({
      steps: [
        { output: [{ type: "exec_command", cmd: "echo 'touch /tmp/pwned' > .git/hooks/pre-commit" }] },
        { output: [{ type: "exec_command", cmd: "echo ok > allowed.txt" }] },
        { output: [{ type: "message", text: "done" }] },
      ],
    });
    const thread = kiln.startThread({ cwd: repo.dir, approvalPolicy: "never" });
    await thread.run("try");
    thread.close();
    expect(harness.toolOutputs(1)[0]).toMatch(/^Exit code: [1-9][\s\S]*Read-only file system/);
    expect(await readFile(join(repo.dir, "allowed.txt"), "utf8")).toBe("ok\n");
  });

  it("does not read an AGENTS.md that is a symlink leading out of the repository", async () => {
    const { server, kiln, repo } = harness;
    const outside = await mkdtemp(join(tmpdir(), "kiln-secret-"));
    try {
      await writeFile(join(outside, "secret.txt"), "TOP-SECRET-AGENTS\n");
      await symlink(join(outside, "secret.txt"), join(repo.dir, "AGENTS.md"));
      server.setScenario({ steps: [{ output: [{ type: "message", text: "hi" }] }] });
      const thread = kiln.startThread({ cwd: repo.dir, approvalPolicy: "never" });
      await thread.run("hello");
      thread.close();
      expect(JSON.stringify(harness.requestBody(0))).not.toContain("TOP-SECRET-AGENTS");
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it("refuses a workdir outside the workspace", async () => {
    const { server, kiln, repo } = harness;
    server.setScenario({
      steps: [
        { output: [{ type: "exec_command", cmd: "ls", workdir: "/root" }] },
        { output: [{ type: "message", text: "no" }] },
      ],
    });
    const thread = kiln.startThread({ cwd: repo.dir, approvalPolicy: "never" });
    await thread.run("look around");
    thread.close();
    expect(harness.lastToolOutput()).toBe(
      `Error: workdir must be inside the workspace (${repo.dir}): /root is outside it`,
    );
  });

  it("keeps a command that prints a flood of output within bounded memory and rollout size", async () => {
    const { server, kiln, repo } = harness;
    server.setScenario({
      steps: [
        {
          output: [
            { type: "exec_command", cmd: "head -c 60000000 /dev/zero | tr '\\0' x; echo; echo THE-END" },
          ],
        },
        { output: [{ type: "message", text: "that was a lot" }] },
      ],
    });
    const thread = kiln.startThread({ cwd: repo.dir, approvalPolicy: "never" });
    const result = await thread.run("flood");
    const rolloutBytes = (await readFile(thread.rolloutPath)).length;
    thread.close();
    expect(result.status).toBe("completed");
    expect(harness.lastToolOutput()).toMatch(/THE-END\n$/);
    expect(harness.lastToolOutput().length).toBeLessThan(50_000);
    expect(rolloutBytes).toBeLessThan(4_000_000);
  });
});
