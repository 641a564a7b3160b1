import { describe, expect, it } from "vitest";
import { runSandboxDoctor } from "./sandbox-doctor.ts";

describe("the sandbox doctor", () => {
  it("reports every check as working on a machine with bubblewrap", async () => {
    const checks = await runSandboxDoctor();
    expect(checks.map(({ name, ok }) => ({ name, ok }))).toEqual([
      { name: "bubblewrap", ok: true },
      { name: "setfacl", ok: true },
      { name: "node-pty", ok: true },
      { name: "namespaces", ok: true },
      { name: "seccomp", ok: true },
      { name: "sandbox user", ok: true },
      { name: "network isolation", ok: true },
    ]);
    expect(checks[0]?.detail).toMatch(/^bubblewrap \d+\.\d+\.\d+ at \//);
  });

  it("says what to install when bubblewrap is missing, and skips what depends on it", async () => {
    const checks = await runSandboxDoctor({ bwrapPath: "/nonexistent/bwrap" });
    expect(checks.filter((check) => !check.ok)).toEqual([
      {
        name: "bubblewrap",
        ok: false,
        detail: "not found at /nonexistent/bwrap",
        fix: "`apt-get install bubblewrap`, or run with `--sandbox danger-full-access`",
      },
      { name: "namespaces", ok: false, detail: "not checked: bubblewrap is missing" },
      { name: "seccomp", ok: false, detail: "not checked: bubblewrap is missing" },
      { name: "sandbox user", ok: false, detail: "not checked: bubblewrap is missing" },
      { name: "network isolation", ok: false, detail: "not checked: bubblewrap is missing" },
    ]);
  });
});
