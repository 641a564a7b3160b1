// The app's frame in a real browser: signing in (and out), the navigation and the task list on a
// phone-width screen, and the dark theme.
import type { TempGitRepo } from "@kiln/test-support";
import type { Page } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { goTo } from "./app-actions.ts";
import { browserSuite, screenshotPath } from "./browser-suite.ts";
import { ADMIN } from "./kiln-under-test.ts";
import { fixTask } from "./scenarios.ts";
import { createAdderEnvironment, runTaskToEnd } from "./task-fixtures.ts";

const suite = browserSuite();
const repos: TempGitRepo[] = [];
afterAll(async () => {
  for (const repo of repos) await repo.cleanup();
});

/** The relative luminance (0 black … 1 white) of the page's background. */
async function backgroundLuminance(page: Page): Promise<number> {
  return page.evaluate(() => {
    const parse = (color: string) => (color.match(/[\d.]+/g) ?? []).map(Number);
    let element: Element | null = document.body;
    let rgba = parse(getComputedStyle(document.body).backgroundColor);
    // A transparent body shows the root's background.
    if (rgba[3] === 0) {
      element = document.documentElement;
      rgba = parse(getComputedStyle(element).backgroundColor);
    }
    const [r = 0, g = 0, b = 0] = rgba.map((c) => {
      const s = c / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  });
}

describe("the app shell in the browser", { timeout: 60_000 }, () => {
  it("signs in with the admin's password, stays signed in across a reload, and signs out", async () => {
    const { page } = await suite.open("/tasks", { signedIn: false });
    await page.getByRole("heading", { name: "Sign in to Kiln" }).waitFor();
    await page.getByLabel("Username").fill(ADMIN.username);
    await page.getByLabel("Password").fill("not-the-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toMatch(/^Could not sign in/);

    await page.getByLabel("Password").fill(ADMIN.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    const nav = page.getByRole("navigation", { name: "Main" });
    await nav.getByRole("link", { name: "Tasks", exact: true }).waitFor();
    expect(new URL(page.url()).pathname).toBe("/tasks");
    await expect(nav.getByText(ADMIN.username, { exact: true }).isVisible()).resolves.toBe(true);

    await page.reload();
    await nav.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in to Kiln" }).waitFor();
    await page.goto("/tasks");
    await page.getByRole("heading", { name: "Sign in to Kiln" }).waitFor();
  });

  it("shows its navigation and the task list usably on a 375 px wide screen", async () => {
    const env = await createAdderEnvironment(suite.kiln, "phone-env");
    repos.push(env.repo);
    const task = await runTaskToEnd(
      suite.kiln,
      { environmentId: env.id, prompt: "Fix add", title: "A task seen on a phone" },
      fixTask(),
    );
    expect(task.status).toBe("completed");
    const { page } = await suite.open("/tasks", { viewport: { width: 375, height: 740 } });
    const title = page.getByRole("link", { name: "A task seen on a phone" });
    await title.waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, "the page scrolls sideways").toBeLessThanOrEqual(0);
    const row = await title.boundingBox();
    expect(
      row !== null && row.x >= 0 && row.x + row.width <= 375,
      `task link at ${JSON.stringify(row)}`,
    ).toBe(true);

    const nav = page.getByRole("navigation", { name: "Main" });
    const menu = page.getByRole("button", { name: "Menu" });
    await expect(menu.getAttribute("aria-expanded")).resolves.toBe("false");
    await menu.click();
    await expect(menu.getAttribute("aria-expanded")).resolves.toBe("true");
    for (const label of ["Tasks", "Threads", "Environments"]) {
      const box = await nav.getByRole("link", { name: label, exact: true }).boundingBox();
      expect(
        box !== null && box.x >= 0 && box.x + box.width <= 375,
        `${label} link at ${JSON.stringify(box)}`,
      ).toBe(true);
    }
    await page.screenshot({ path: screenshotPath("phone-width navigation open"), fullPage: true });
    await goTo(page, "Environments");
    await page.getByRole("heading", { name: "Environments", level: 1 }).waitFor();
    await goTo(page, "Tasks");
    await title.waitFor();
  });

  it("switches to the dark theme and keeps it after a reload", async () => {
    const { page } = await suite.open("/tasks", { colorScheme: "light" });
    const html = page.locator("html");
    await page.getByRole("button", { name: "Switch to dark theme" }).waitFor();
    await expect(html.getAttribute("data-theme")).resolves.toBe("light");
    const light = await backgroundLuminance(page);

    await page.getByRole("button", { name: "Switch to dark theme" }).click();
    await expect.poll(() => html.getAttribute("data-theme")).toBe("dark");
    await page.getByRole("button", { name: "Switch to light theme" }).waitFor();
    const dark = await backgroundLuminance(page);
    expect({ light: light > 0.5, dark: dark < 0.2 }, `luminance light ${light}, dark ${dark}`).toEqual({
      light: true,
      dark: true,
    });

    await page.reload();
    await page.getByRole("button", { name: "Switch to light theme" }).waitFor();
    await expect(html.getAttribute("data-theme")).resolves.toBe("dark");
  });
});
