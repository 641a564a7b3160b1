import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadScenario, parseScenario } from "./scenario.ts";

const scenariosDir = fileURLToPath(new URL("../scenarios/", import.meta.url));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "kiln-scenario-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeScenario(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

describe("loadScenario", () => {
  it("parses a valid file into a scenario", async () => {
    const path = await writeScenario(
      "ok.json",
      JSON.stringify({
        steps: [
          { when: { bodyIncludes: "thread-1" }, output: [{ type: "message", text: "hi" }], chunkDelayMs: 5 },
          { fault: { type: "http", status: 429, retryAfter: 1 }, repeat: 2 },
        ],
      }),
    );

    expect(await loadScenario(path)).toEqual({
      steps: [
        { when: { bodyIncludes: "thread-1" }, output: [{ type: "message", text: "hi" }], chunkDelayMs: 5 },
        { fault: { type: "http", status: 429, retryAfter: 1 }, repeat: 2 },
      ],
    });
  });

  it("rejects a bad file with a message naming the file and the field", async () => {
    const path = await writeScenario(
      "bad.json",
      JSON.stringify({
        steps: [
          {
            output: [
              { type: "message", text: "ok" },
              { type: "exec_command", cmd: 42 },
            ],
          },
        ],
      }),
    );

    await expect(loadScenario(path)).rejects.toThrow(
      `Invalid scenario file ${path}:\n  steps[0].output[1].cmd: Invalid input: expected string, received number`,
    );
  });

  it("rejects an unknown output type and a misspelled key", async () => {
    const path = await writeScenario(
      "unknown.json",
      JSON.stringify({ steps: [{ output: [{ type: "shout", text: "x" }] }, { ouput: [] }] }),
    );
    const error: unknown = await loadScenario(path).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain("steps[0].output[0].type:");
    expect((error as Error).message).toContain('steps[1]: Unrecognized key: "ouput"');
  });

  it("rejects a file that is not JSON, naming the file", async () => {
    const path = await writeScenario("broken.json", "{ steps: [");

    await expect(loadScenario(path)).rejects.toThrow(`Scenario file ${path} is not valid JSON:`);
  });

  it("rejects a missing file, naming it", async () => {
    const path = join(dir, "missing.json");

    await expect(loadScenario(path)).rejects.toThrow(`Cannot read scenario file ${path}: ENOENT`);
  });
});

describe("parseScenario", () => {
  it("validates a scenario written in code", () => {
    expect(() => parseScenario({ steps: [{ repeat: 0 }] })).toThrow(
      "Invalid scenario scenario:\n  steps[0].repeat: Too small: expected number to be >0",
    );
  });
});

describe("the example scenarios", () => {
  it("hello.json says one message", async () => {
    expect(await loadScenario(join(scenariosDir, "hello.json"))).toEqual({
      steps: [
        { output: [{ type: "message", text: "Hello! I'm ready to help. What would you like to work on?" }] },
      ],
    });
  });

  it("fix-failing-test.json runs the tests, patches, reruns them and reports", async () => {
    const scenario = await loadScenario(join(scenariosDir, "fix-failing-test.json"));

    expect(scenario.steps.map((s) => (s.output ?? []).map((o) => o.type))).toEqual([
      ["reasoning", "exec_command"],
      ["reasoning", "apply_patch"],
      ["exec_command"],
      ["message"],
    ]);
  });

  it("fix-failing-test.json's patch applies to the repo in fix-failing-test.repo.json", async () => {
    const scenario = await loadScenario(join(scenariosDir, "fix-failing-test.json"));
    const repo = JSON.parse(
      await readFile(join(scenariosDir, "fix-failing-test.repo.json"), "utf8"),
    ) as Record<string, string>;
    const patch = scenario.steps[1]?.output?.find((o) => o.type === "apply_patch");
    if (patch?.type !== "apply_patch") throw new Error("step 2 has no apply_patch");
    const hunk = patch.patch.split("\n").filter((l) => /^[ +-]/.test(l));
    const before = hunk.filter((l) => !l.startsWith("+")).map((l) => l.slice(1));
    const after = hunk.filter((l) => !l.startsWith("-")).map((l) => l.slice(1));

    expect(patch.patch).toContain("*** Update File: sum.js\n");
    expect(repo["sum.js"]).toContain(before.join("\n"));
    expect(repo["sum.js"]?.replace(before.join("\n"), after.join("\n"))).toContain("return a + b;");
  });
});
