import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runKiln } from "./run-kiln.ts";

describe("kiln doctor", () => {
  it("reports every check as JSON, all passing on this machine when a key is set", async () => {
    const home = await mkdtemp(join(tmpdir(), "kiln-home-"));
    try {
      const env = { PATH: process.env.PATH ?? "", HOME: home, KILN_HOME: home, OPENAI_API_KEY: "k" };
      const run = await runKiln(["doctor", "--json"], { cwd: home, env });
      const report = JSON.parse(run.stdout) as {
        ok: boolean;
        checks: { name: string; ok: boolean; detail: string }[];
      };
      expect(report.checks.filter((c) => !c.ok)).toEqual([]);
      expect(report.ok).toBe(true);
      expect(run.code).toBe(0);
      expect(report.checks.map((c) => c.name)).toEqual(
        expect.arrayContaining([
          "node",
          "config",
          "api key",
          "bubblewrap",
          "seccomp",
          "sandbox user",
          "network isolation",
        ]),
      );
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it("says how to fix what is missing and exits 1", async () => {
    const home = await mkdtemp(join(tmpdir(), "kiln-home-"));
    try {
      const run = await runKiln(["doctor"], {
        cwd: home,
        env: { PATH: process.env.PATH ?? "", HOME: home, KILN_HOME: home },
      });
      expect(run.code).toBe(1);
      expect(run.stdout).toContain(
        "✗ api key: OPENAI_API_KEY is not set\n    fix: export OPENAI_API_KEY=<your key>",
      );
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
