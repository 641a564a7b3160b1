// @vitest-environment happy-dom
// A command card shows the command, its output as it streams, then its exit code and duration.
import type { CommandExecutionItem } from "@kiln/protocol";
import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { CommandCard } from "./command-card.tsx";

afterEach(cleanup);

const running: CommandExecutionItem = {
  id: "cmd_1",
  type: "commandExecution",
  command: "node test.mjs",
  cwd: "/ws",
  aggregatedOutput: "running 3 tests\n",
  exitCode: null,
  durationMs: null,
  status: "in_progress",
};

describe("CommandCard", () => {
  it("shows the command and the output so far while it runs", () => {
    render(<CommandCard item={running} state="streaming" startedAt={Date.now() - 2500} />);
    const card = screen.getByRole("article", { name: "Command: node test.mjs" });
    expect(card.getAttribute("aria-busy")).toBe("true");
    expect(screen.getByLabelText("Output of node test.mjs").textContent).toBe("running 3 tests\n");
    expect(card.textContent).toContain("running");
    expect(card.textContent).toMatch(/2\.\d s/);
  });

  it("shows the exit code and duration once it completed, and marks a failure", () => {
    const { rerender } = render(
      <CommandCard
        item={{
          ...running,
          aggregatedOutput: "running 3 tests\nok\n",
          exitCode: 0,
          durationMs: 1830,
          status: "completed",
        }}
        state="completed"
      />,
    );
    const card = screen.getByRole("article", { name: "Command: node test.mjs" });
    expect(card.textContent).toContain("exit 0");
    expect(card.textContent).toContain("1.8 s");
    expect(screen.getByLabelText("Output of node test.mjs").textContent).toBe("running 3 tests\nok\n");
    expect(card.classList.contains("is-failed")).toBe(false);

    rerender(
      <CommandCard
        item={{
          ...running,
          aggregatedOutput: "1 failing\n",
          exitCode: 1,
          durationMs: 65_000,
          status: "failed",
        }}
        state="completed"
      />,
    );
    expect(card.textContent).toContain("exit 1");
    expect(card.textContent).toContain("1 min 05 s");
    expect(card.classList.contains("is-failed")).toBe(true);
  });
});
