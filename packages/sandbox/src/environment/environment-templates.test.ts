import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { EnvironmentTemplate } from "@kiln/protocol";
import { createTempGitRepo } from "@kiln/test-support";
import { afterAll, describe, expect, it } from "vitest";
import { createSandboxProvider } from "../sandbox-provider.ts";
import { ENVIRONMENT_TEMPLATES, environmentTemplate } from "./environment-templates.ts";
import { git, removeTempDirs, tempDir } from "./environment-test-helpers.ts";
import { prepareEnvironment } from "./prepare-environment.ts";

const provider = createSandboxProvider("workspace-write");

afterAll(removeTempDirs);

/** Prepares a repository made of `files` with the template's setup script, offline. */
async function prepareWith(template: string, files: Record<string, string>) {
  const repo = await createTempGitRepo(files);
  try {
    return await prepareEnvironment({
      repository: repo.dir,
      branch: "main",
      setupScript: environmentTemplate(template)?.setupScript ?? "exit 99",
      env: {},
      secrets: {},
      setupTimeoutMs: 15_000,
      cacheDir: await tempDir("kiln-env-cache-"),
      provider,
      setupNetwork: false,
    });
  } finally {
    await repo.cleanup();
  }
}

describe("ENVIRONMENT_TEMPLATES", () => {
  it("offers blank, node and python templates that match the protocol's schema", () => {
    expect(ENVIRONMENT_TEMPLATES.map((template) => template.name)).toEqual(["blank", "node", "python"]);
    for (const template of ENVIRONMENT_TEMPLATES)
      expect(EnvironmentTemplate.parse(template)).toEqual(template);
    expect(environmentTemplate("blank")).toEqual({
      name: "blank",
      label: "Blank",
      description: "Just the repository, with no setup script. Add your own setup later if you need one.",
      setupScript: "",
      network: "off",
    });
    expect(environmentTemplate("cobol")).toBeUndefined();
  });

  it("installs a Node.js project's dependencies with the node template", async () => {
    const prepared = await prepareWith("node", {
      "package.json": JSON.stringify({ name: "demo", version: "1.0.0", private: true }),
    });

    // `npm install` ran in the sandbox (it writes the lockfile) and its output is out of git's view.
    expect(JSON.parse(await readFile(join(prepared.dir, "package-lock.json"), "utf8"))).toMatchObject({
      name: "demo",
      lockfileVersion: 3,
    });
    expect(await git(prepared.dir, "status", "--porcelain", "--untracked-files=all")).toBe("");
  });
});
