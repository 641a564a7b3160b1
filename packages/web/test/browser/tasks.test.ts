// Tasks in a real browser against a real `kiln serve` and the fake model: one started from the New task
// form runs to completion and shows what the agent did and its diff; a best-of-2 task shows both
// attempts' diffs side by side and compared; a task's sandbox has a working terminal.
import { readFile } from "node:fs/promises";
import type { TempGitRepo } from "@kiln/test-support";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { browserSuite } from "./browser-suite.ts";
import { changedLines } from "./read-diff.ts";
import { readTimeline, timelineList } from "./read-timeline.ts";
import { bestOfTwo, fixTask } from "./scenarios.ts";
import { createAdderEnvironment, runTaskToEnd, waitForTask } from "./task-fixtures.ts";

const suite = browserSuite();
const POLL = { timeout: 20_000, interval: 100 };
let env: { id: string; repo: TempGitRepo };

beforeAll(async () => {
  env = await createAdderEnvironment(suite.kiln, "adder");
});
afterAll(async () => {
  await env?.repo.cleanup();
});

/** Fills the New task form on the task list and starts the task; resolves with its id. */
async function startTaskInUi(page: Page, prompt: string, attempts: number): Promise<string> {
  const form = page.getByRole("form", { name: "New task" });
  await form.getByLabel("Prompt").fill(prompt);
  await form.getByLabel("Environment").selectOption({ label: "adder" });
  await form.getByLabel("Attempts").selectOption(String(attempts));
  await form.getByRole("button", { name: "Start task" }).click();
  await page.waitForURL(/\/tasks\/[^/]+$/);
  return decodeURIComponent(new URL(page.url()).pathname.split("/").at(-1) ?? "");
}

describe("tasks in the browser", { timeout: 60_000 }, () => {
  it("runs a task started from the New task form to completion and shows its work and its diff", async () => {
    suite.kiln.model.setScenario(fixTask());
    const { page, context } = await suite.open("/tasks");
    const taskId = await startTaskInUi(page, "The test fails: fix add()", 1);
    await page.getByRole("heading", { level: 1, name: "The test fails: fix add()" }).waitFor();

    const activity = timelineList(page, "Attempt 1 activity");
    await expect
      .poll(() => readTimeline(activity), POLL)
      .toEqual([
        { name: "Your message", text: expect.stringMatching(/^The test fails: fix add\(\)/) },
        { name: "File change: edited add.mjs", text: expect.stringContaining("return a + b;") },
        { name: "Command: node test.mjs", text: expect.stringMatching(/exit 0.*ok/) },
        { name: "Tool call: make_pr", text: expect.stringContaining("completed") },
        { name: "Agent message", text: "Fixed add: it adds now and the test passes." },
      ]);
    const attempt = page.getByRole("region", { name: "Attempt 1", exact: true });
    await attempt.getByText("Completed", { exact: true }).first().waitFor();

    // Two diffs of add.mjs: the file-change card's in the activity, then the attempt's Changes.
    const unified = attempt.getByRole("table", { name: "Changes to add.mjs (unified view)" });
    await expect.poll(() => unified.count(), POLL).toBe(2);
    expect(await changedLines(unified.last())).toEqual(["-  return a - b;", "+  return a + b;"]);
    await page
      .getByRole("group", { name: "Diff layout" })
      .last()
      .getByRole("button", { name: "Split" })
      .click();
    const split = attempt.getByRole("table", { name: "Changes to add.mjs (split view)" }).last();
    expect(await changedLines(split)).toEqual(["-  return a - b;", "+  return a + b;"]);

    const task = (await suite.kiln.api("GET", `/api/v1/tasks/${taskId}`)).body;
    expect(task).toMatchObject({
      status: "completed",
      bestOfN: 1,
      attempts: [{ status: "completed", pr: { title: "Fix add", body: "Fixes add (a + b)." } }],
    });
    expect(task.attempts[0].diff).toContain("+  return a + b;");

    // The PR title goes to the clipboard; the patch downloads as the attempt's diff.
    await context.grantPermissions(["clipboard-read", "clipboard-write"]);
    await attempt.getByRole("button", { name: "Copy PR title" }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe("Fix add");
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      attempt.getByRole("link", { name: "Download patch" }).click(),
    ]);
    expect(await readFile(await download.path(), "utf8")).toBe(task.attempts[0].diff);
  });

  it("compares the two attempts of a best-of-2 task side by side", async () => {
    suite.kiln.model.setScenario(bestOfTwo());
    const { page } = await suite.open("/tasks");
    const taskId = await startTaskInUi(page, "Fix add two ways", 2);
    const task = await waitForTask(suite.kiln, taskId);
    expect(task.attempts.map((a: { status: string }) => a.status)).toEqual(["completed", "completed"]);
    const added = task.attempts.map((a: { diff: string }) => /^\+ {2}(return .*)$/m.exec(a.diff)?.[1]);
    expect([...added].sort()).toEqual(["return a + b;", "return b + a;"]);

    const comparison = page.getByRole("region", { name: "Compare attempts" });
    const files = comparison.getByRole("table", { name: "Files changed by attempt 1 and attempt 2" });
    await expect
      .poll(() => files.getByRole("row").allInnerTexts(), POLL)
      .toEqual([
        expect.stringMatching(/^File\s+Attempt 1\s+Attempt 2\s+Same change$/),
        // Each count is "+1 −1" (and its words for screen readers); "no": the changes differ.
        expect.stringMatching(/^add\.mjs\s+\+1 −1.*\+1 −1.*\sno$/s),
      ]);
    const left = comparison.getByLabel("Attempt 1: add.mjs", { exact: true });
    const right = comparison.getByLabel("Attempt 2: add.mjs", { exact: true });
    expect(await changedLines(left)).toEqual(["-  return a - b;", `+  ${added[0]}`]);
    expect(await changedLines(right)).toEqual(["-  return a - b;", `+  ${added[1]}`]);
    const [l, r] = [await left.boundingBox(), await right.boundingBox()];
    expect(l !== null && r !== null && l.x + l.width <= r.x && Math.abs(l.y - r.y) < 5, "side by side").toBe(
      true,
    );

    // The attempts themselves, side by side, each with its own diff.
    await page.getByRole("button", { name: "Side by side" }).click();
    for (const [i, line] of added.entries()) {
      const column = page.getByRole("region", { name: `Attempt ${i + 1}`, exact: true });
      // The attempt's Changes, below the file-change card of its activity.
      const diff = column.getByRole("table", { name: /^Changes to add\.mjs/ }).last();
      await expect.poll(() => changedLines(diff), POLL).toEqual(["-  return a - b;", `+  ${line}`]);
    }
  });

  it("opens a terminal in a task's sandbox and runs echo hi", async () => {
    const task = await runTaskToEnd(
      suite.kiln,
      { environmentId: env.id, prompt: "Fix add", title: "Task with a terminal" },
      fixTask(),
    );
    const { page } = await suite.open(`/tasks/${task.id}`);
    await page.getByRole("link", { name: "Terminal" }).click();
    await page.waitForURL(`/terminal/${encodeURIComponent(task.attempts[0].sandboxId)}`);
    const terminal = page.getByRole("region", { name: "Terminal" });
    await terminal.getByRole("status").filter({ hasText: "Connected" }).waitFor();
    // xterm's DOM renderer draws each screen row as one element of .xterm-rows.
    const screen = async () =>
      (await terminal.locator(".xterm-rows > *").allTextContents()).map((row) => row.trim()).filter(Boolean);
    // The prompt is on screen: the shell is reading.
    await expect.poll(async () => (await screen()).length, POLL).toBeGreaterThan(0);
    await terminal.locator(".xterm").click();
    await page.keyboard.type("echo hi\n");
    await expect
      .poll(screen, POLL)
      .toEqual(expect.arrayContaining([expect.stringMatching(/\$ echo hi$/), "hi"]));
    await page.keyboard.type("cat add.mjs\n");
    await expect.poll(screen, POLL).toEqual(expect.arrayContaining(["return a + b;"]));
  });
});
