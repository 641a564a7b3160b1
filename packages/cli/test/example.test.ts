import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../../", import.meta.url));

describe("examples/embedding.mjs", () => {
  it("runs as documented: a dynamic tool is called, the turn streams, and run() continues the thread", () => {
    const run = spawnSync(process.execPath, ["examples/embedding.mjs", "--fake"], {
      cwd: root,
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/#\d+ toolCall/);
    expect(run.stdout).toContain("agentMessage It is 21 °C and sunny in Paris.");
    expect(run.stdout).toMatch(/turn completed, \d+ tokens/);
    expect(run.stdout).toContain("final: You asked about Paris.");
  });
});
