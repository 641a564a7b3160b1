// Environments in a real browser: one made through the form (a local git repository, a setup script, a
// variable and a secret) is listed, is stored as typed (the secret's value never shown), and is offered
// by the New task form.
import { createTempGitRepo, type TempGitRepo } from "@kiln/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { goTo } from "./app-actions.ts";
import { browserSuite } from "./browser-suite.ts";
import { ADDER_FILES } from "./scenarios.ts";

const suite = browserSuite();
let repo: TempGitRepo;
beforeAll(async () => {
  repo = await createTempGitRepo(ADDER_FILES);
});
afterAll(async () => {
  await repo?.cleanup();
});

describe("environments in the browser", { timeout: 60_000 }, () => {
  it("creates an environment from a local git repository through the form", async () => {
    const { page } = await suite.open("/");
    await goTo(page, "Environments");
    await page.getByRole("button", { name: "New environment" }).click();
    const form = page.getByRole("form", { name: "New environment" });
    await form.getByLabel("Name", { exact: true }).fill("adder");
    await form.getByLabel("Repository", { exact: true }).fill(repo.dir);
    await form.getByLabel("Branch", { exact: true }).fill("main");
    await form.getByLabel("Setup script", { exact: true }).fill('echo "preparing for $GREETING"');
    await form.getByRole("button", { name: "Add variable" }).click();
    await form.getByLabel("Variable 1 name").fill("GREETING");
    await form.getByLabel("Variable 1 value").fill("hello");
    await form.getByRole("button", { name: "Add secret" }).click();
    await form.getByLabel("Secret 1 name").fill("SETUP_TOKEN");
    await form.getByLabel("Secret 1 value").fill("s3cret-value");
    await form.getByRole("button", { name: "Create environment" }).click();

    await page.getByRole("status").filter({ hasText: "Created adder." }).waitFor();
    const card = page
      .getByRole("list", { name: "Environments" })
      .getByRole("listitem")
      .filter({
        has: page.getByRole("heading", { name: "adder" }),
      });
    await card.waitFor();
    await expect(card.getByText(repo.dir, { exact: true }).isVisible()).resolves.toBe(true);
    await expect(card.getByText("SETUP_TOKEN", { exact: true }).isVisible()).resolves.toBe(true);
    expect(await page.content()).not.toContain("s3cret-value");

    const { environments } = (await suite.kiln.api("GET", "/api/v1/environments")).body;
    expect(environments).toEqual([
      expect.objectContaining({
        name: "adder",
        repository: repo.dir,
        branch: "main",
        setupScript: 'echo "preparing for $GREETING"',
        env: { GREETING: "hello" },
        secretNames: ["SETUP_TOKEN"],
        network: "off",
        taskCount: 0,
      }),
    ]);

    await goTo(page, "Tasks");
    const environment = page.getByRole("form", { name: "New task" }).getByLabel("Environment");
    await expect.poll(() => environment.locator("option").allTextContents()).toEqual(["adder"]);
  });
});
