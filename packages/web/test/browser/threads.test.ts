// Chat threads in a real browser against a real `kiln serve` and the fake model: a conversation of two
// turns, a command that waits for the person's approval, and a network drop in the middle of a turn
// after which every event is shown exactly once (the stream resumes from the last seq it saw).
import { access } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createThreadInUi, sendMessage } from "./app-actions.ts";
import { browserSuite } from "./browser-suite.ts";
import { startCuttableProxy } from "./cuttable-proxy.ts";
import { readTimeline, timelineList } from "./read-timeline.ts";
import { commandNeedingApproval, SLOW_TURN, slowTurn, twoTurns } from "./scenarios.ts";

const suite = browserSuite();

const POLL = { timeout: 20_000, interval: 100 };

describe("chat threads in the browser", { timeout: 60_000 }, () => {
  it("holds a conversation of two turns: each answer streams in after its question, in order", async () => {
    suite.kiln.model.setScenario(twoTurns("Four.", "Eight: twice four."));
    const { page } = await suite.open("/");
    const threadId = await createThreadInUi(page, { title: "Arithmetic" });
    await expect(page.getByRole("heading", { level: 1 }).textContent()).resolves.toBe("Arithmetic");
    const conversation = timelineList(page, "Conversation");

    await sendMessage(page, "What is 2 + 2?");
    await expect
      .poll(() => readTimeline(conversation), POLL)
      .toEqual([
        { name: "Your message", text: "What is 2 + 2?" },
        { name: "Agent message", text: "Four." },
      ]);
    await page.getByRole("button", { name: "Send", exact: true }).waitFor();
    await sendMessage(page, "And doubled?");
    await expect
      .poll(() => readTimeline(conversation), POLL)
      .toEqual([
        { name: "Your message", text: "What is 2 + 2?" },
        { name: "Agent message", text: "Four." },
        { name: "Your message", text: "And doubled?" },
        { name: "Agent message", text: "Eight: twice four." },
      ]);
    const thread = (await suite.kiln.api("GET", `/api/v1/threads/${threadId}`)).body;
    expect(thread.turns.map((t: { status: string }) => t.status)).toEqual(["completed", "completed"]);
  });

  it("asks before running a command under the untrusted policy, runs it on Approve and shows its output", async () => {
    const cmd = "touch approved.txt && echo made-it";
    suite.kiln.model.setScenario(commandNeedingApproval(cmd, "Created approved.txt."));
    const { page } = await suite.open("/");
    const threadId = await createThreadInUi(page, {
      title: "Needs approval",
      approvalPolicy: "Ask before anything not known safe",
    });
    await sendMessage(page, "Create approved.txt");

    const approval = page.getByRole("region", { name: `Approval: ${cmd}` });
    await approval.getByRole("status").filter({ hasText: "Waiting for a decision" }).waitFor();
    const { cwd } = (await suite.kiln.api("GET", `/api/v1/threads/${threadId}`)).body.info;
    await expect(access(join(cwd, "approved.txt")), "nothing runs before the decision").rejects.toThrow();
    await approval.getByRole("button", { name: "Approve", exact: true }).click();

    const command = page.getByRole("article", { name: `Command: ${cmd}` });
    await expect.poll(() => command.getByLabel(`Output of ${cmd}`).textContent(), POLL).toBe("made-it\n");
    await expect(command.getByText("exit 0", { exact: true }).isVisible()).resolves.toBe(true);
    await expect
      .poll(() => readTimeline(timelineList(page, "Conversation")), POLL)
      .toEqual([
        { name: "Your message", text: "Create approved.txt" },
        { name: `Approval: ${cmd}`, text: expect.stringMatching(/^Run this command\? .*Approved$/) },
        { name: `Command: ${cmd}`, text: expect.stringMatching(/made-it/) },
        { name: "Agent message", text: "Created approved.txt." },
      ]);
    await access(join(cwd, "approved.txt"));
  });

  it("shows every event exactly once after the connection drops mid-turn and comes back", async () => {
    const proxy = await startCuttableProxy(suite.kiln.url);
    try {
      suite.kiln.model.setScenario(slowTurn(250));
      const thread = (await suite.kiln.api("POST", "/api/v1/threads", { title: "Flaky network" })).body;
      const { page, context } = await suite.open(`/threads/${thread.id}`, { baseUrl: proxy.url });
      const streams: string[] = [];
      page.on("request", (request) => {
        if (request.url().includes(`/threads/${thread.id}/events`)) streams.push(request.url());
      });
      await sendMessage(page, "Run both commands");

      const first = page.getByRole("article", { name: `Command: ${SLOW_TURN.firstCommand}` });
      await first.getByText("exit 0", { exact: true }).waitFor();
      await context.setOffline(true);
      expect(proxy.cut(), "open connections cut").toBeGreaterThan(0);
      const streamsBeforeDrop = streams.length;
      // The slow model step streams on while the page is offline: the turn moves on without it.
      await page.waitForTimeout(2_000);
      expect(suite.kiln.model.requests.length, "the second model step started during the drop").toBe(2);
      const seenOffline = (await readTimeline(timelineList(page, "Conversation"))).map((card) => card.text);
      expect(seenOffline).not.toContain(SLOW_TURN.answer);
      await context.setOffline(false);

      const expected = [
        { name: "Your message", text: "Run both commands" },
        { name: `Command: ${SLOW_TURN.firstCommand}`, text: expect.stringContaining("before-the-drop") },
        { name: "Agent message", text: SLOW_TURN.note },
        { name: `Command: ${SLOW_TURN.secondCommand}`, text: expect.stringContaining("after-the-drop") },
        { name: "Agent message", text: SLOW_TURN.answer },
      ];
      const conversation = timelineList(page, "Conversation");
      await expect.poll(() => readTimeline(conversation), { ...POLL, timeout: 30_000 }).toEqual(expected);
      const resumed = streams
        .slice(streamsBeforeDrop)
        .map((url) => Number(new URL(url).searchParams.get("after")));
      expect(resumed.length, "the stream reconnected").toBeGreaterThan(0);
      expect(
        resumed.every((after) => after > 0),
        `resumed from a seq, not from 0: ${resumed}`,
      ).toBe(true);
      // Nothing arrives late and twice once the turn has ended.
      await page.getByRole("button", { name: "Send", exact: true }).waitFor();
      await page.waitForTimeout(500);
      expect(await readTimeline(conversation)).toEqual(expected);
    } finally {
      await proxy.close();
    }
  });
});
