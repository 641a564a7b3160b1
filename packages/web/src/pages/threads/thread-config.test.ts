import { describe, expect, it } from "vitest";
import { checkThreadConfig, defaultThreadConfig, isUnguarded } from "./thread-config.ts";

describe("checkThreadConfig", () => {
  it("builds a request for a fresh workspace with the chosen sandbox and approval policy", () => {
    const form = { ...defaultThreadConfig(), title: "  Fix the build ", model: " gpt-test " };
    expect(checkThreadConfig(form)).toEqual({
      ok: true,
      request: {
        title: "Fix the build",
        model: "gpt-test",
        sandbox: "workspace-write",
        approvalPolicy: "on-request",
      },
    });
  });

  it("sends the working directory only when the person chose one", () => {
    const form = { ...defaultThreadConfig(), cwd: "/srv/project", environmentId: "env_1" };
    expect(checkThreadConfig({ ...form, location: "cwd" })).toEqual({
      ok: true,
      request: { cwd: "/srv/project", sandbox: "workspace-write", approvalPolicy: "on-request" },
    });
    expect(checkThreadConfig({ ...form, location: "environment", sandbox: "read-only" })).toEqual({
      ok: true,
      request: { environmentId: "env_1", sandbox: "read-only", approvalPolicy: "on-request" },
    });
  });

  it("asks for a directory, an absolute one, and for an environment when those are chosen", () => {
    const base = defaultThreadConfig();
    expect(checkThreadConfig({ ...base, location: "cwd" })).toEqual({
      ok: false,
      errors: { cwd: "Enter the directory the agent works in, e.g. /home/me/project." },
    });
    expect(checkThreadConfig({ ...base, location: "cwd", cwd: "project" })).toEqual({
      ok: false,
      errors: { cwd: "Use an absolute path (starting with /)." },
    });
    expect(checkThreadConfig({ ...base, location: "environment", model: "gpt 5" })).toEqual({
      ok: false,
      errors: {
        environmentId: "Choose an environment (or create one on the Environments page).",
        model: "A model name has no spaces, e.g. gpt-5-codex.",
      },
    });
  });

  it("reports the protocol's limits on the field they concern", () => {
    const check = checkThreadConfig({ ...defaultThreadConfig(), title: "x".repeat(501) });
    expect(check.ok).toBe(false);
    expect(Object.keys(check.ok ? {} : check.errors)).toEqual(["title"]);
  });
});

describe("isUnguarded", () => {
  it("holds only for full access without approvals", () => {
    expect(isUnguarded({ sandbox: "danger-full-access", approvalPolicy: "never" })).toBe(true);
    expect(isUnguarded({ sandbox: "danger-full-access", approvalPolicy: "untrusted" })).toBe(false);
    expect(isUnguarded({ sandbox: "workspace-write", approvalPolicy: "never" })).toBe(false);
  });
});
