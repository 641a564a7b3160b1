import { type AttemptStatus, WhamTaskDetails, WhamTaskListItem } from "@kiln/protocol";
import { describe, expect, it } from "vitest";
import { whamTaskDetails, whamTaskListItem, whamTurnStatus } from "./wham-mapping.ts";
import { attempt, ENV_ID, HELLO_DIFF, kilnId, run, T0, TASK_ID, task, userTurn } from "./wham-test-tasks.ts";
import { whamSiblingTurns } from "./wham-turns.ts";

const stats = { filesModified: 1, linesAdded: 1, linesRemoved: 0 };
const u0 = userTurn(0, "Add a hello file", [kilnId("att", 0), kilnId("att", 1)]);
const a1 = run(0, 0, "completed", {
  message: "Summary of the work",
  diff: HELLO_DIFF,
  diffStats: stats,
  pr: { title: "Add hello file", body: "PR body" },
});
const a2 = run(1, 0, "completed", { message: "Another way", diff: HELLO_DIFF, diffStats: stats });

/** The spec's example: best of 2, both attempts done. */
const bestOfTwo = task({
  bestOfN: 2,
  status: "completed",
  userTurns: [u0],
  attempts: [attempt(0, [a1]), attempt(1, [a2])],
});

const specStatusDisplay = {
  environment_label: "my-env",
  state: "ready",
  latest_turn_status_display: {
    turn_id: a1.id,
    turn_status: "completed",
    created_at: 1795234760.07,
    updated_at: 1795234761.07,
    sibling_turn_ids: [a2.id],
    diff_stats: { files_modified: 1, lines_added: 1, lines_removed: 0 },
  },
};

const prompt = (text: string) => [
  { type: "message", role: "user", content: [{ content_type: "text", text }] },
];

describe("the WHAM task listing", () => {
  it("shows a finished best-of-2 task exactly as the spec's list example", () => {
    const item = WhamTaskListItem.parse(whamTaskListItem(bestOfTwo));
    expect(item).toEqual({
      id: TASK_ID,
      title: "Add a hello file",
      has_generated_title: false,
      created_at: 1795234760.07,
      updated_at: 1795234761.07,
      task_status_display: specStatusDisplay,
      archived: false,
      has_unread_turn: false,
      pull_requests: [],
    });
    expect(Number.isInteger(item.created_at)).toBe(false);
  });

  it("has no latest turn and a pending state while no attempt has started", () => {
    const queued = task({ userTurns: [u0], attempts: [attempt(0, [])] });
    expect(whamTaskListItem(queued).task_status_display).toEqual({
      environment_label: "my-env",
      state: "pending",
      latest_turn_status_display: null,
    });
  });

  it("keeps pull_requests empty and says applied once an attempt is published", () => {
    const published = task({
      status: "completed",
      userTurns: [u0],
      attempts: [
        attempt(0, [a1], {
          published: {
            branch: "kiln/task-0",
            commit: "0123456789abcdef0123456789abcdef01234567",
            pullRequest: { url: "https://github.com/acme/widgets/pull/7", number: 7, state: "open" },
            publishedAt: T0 + 5000,
          },
        }),
      ],
    });
    const item = WhamTaskListItem.parse(whamTaskListItem(published));
    expect(item.pull_requests).toEqual([]);
    expect(item.task_status_display.state).toBe("applied");
    expect(whamTaskDetails(published).task.external_pull_requests).toEqual([
      {
        id: kilnId("att", 0),
        assistant_turn_id: a1.id,
        pull_request: {
          number: 7,
          url: "https://github.com/acme/widgets/pull/7",
          state: "open",
          merged: false,
          mergeable: false,
          title: "Add hello file",
          body: "PR body",
          head: "kiln/task-0",
          head_sha: "0123456789abcdef0123456789abcdef01234567",
        },
      },
    ]);
  });
});

describe("the WHAM task details", () => {
  it("match the spec's example field by field", () => {
    const details = WhamTaskDetails.parse(whamTaskDetails(bestOfTwo));
    expect(details).toEqual({
      task: {
        id: TASK_ID,
        title: "Add a hello file",
        created_at: 1795234760.07,
        updated_at: 1795234761.07,
        has_generated_title: false,
        current_turn_id: a1.id,
        has_unread_turn: false,
        archived: false,
        external_pull_requests: [],
        environment_id: ENV_ID,
        task_status_display: specStatusDisplay,
      },
      task_status_display: specStatusDisplay,
      current_user_turn: {
        id: u0.id,
        role: "user",
        turn_status: "completed",
        created_at: 1795234760.07,
        input_items: prompt("Add a hello file"),
      },
      current_assistant_turn: {
        id: a1.id,
        role: "assistant",
        turn_status: "completed",
        created_at: 1795234760.07,
        attempt_placement: 0,
        sibling_turn_ids: [a2.id],
        output_items: [
          {
            type: "message",
            role: "assistant",
            content: [{ content_type: "text", text: "Summary of the work" }],
          },
          {
            type: "pr",
            pr_title: "Add hello file",
            pr_message: "PR body",
            output_diff: { diff: HELLO_DIFF },
          },
        ],
        error: null,
      },
      current_diff_task_turn: { id: a1.id, output_items: [{ type: "output_diff", diff: HELLO_DIFF }] },
    });
  });

  it("show a running attempt as in_progress with its partial message and no diff yet", () => {
    const partial = run(0, 0, "running", { message: "Looking at the repo" });
    const running = task({ status: "running", userTurns: [u0], attempts: [attempt(0, [partial])] });
    const details = WhamTaskDetails.parse(whamTaskDetails(running));
    expect(details.current_assistant_turn).toEqual({
      id: partial.id,
      role: "assistant",
      turn_status: "in_progress",
      created_at: 1795234760.07,
      attempt_placement: 0,
      sibling_turn_ids: [],
      output_items: [
        {
          type: "message",
          role: "assistant",
          content: [{ content_type: "text", text: "Looking at the repo" }],
        },
      ],
      error: null,
    });
    expect(details.current_diff_task_turn).toBeNull();
    expect(details.task_status_display.state).toBe("pending");
    expect(details.task_status_display.latest_turn_status_display?.diff_stats).toEqual({
      files_modified: 0,
      lines_added: 0,
      lines_removed: 0,
    });
  });

  it("give a failed attempt its error code and message, and a diff without make_pr the task's title", () => {
    const failed = run(0, 0, "failed", {
      error: { code: "model_error", message: "the model server answered 500", retryable: false },
    });
    const done = run(1, 0, "completed", { diff: HELLO_DIFF, diffStats: stats });
    const mixed = task({
      bestOfN: 2,
      status: "completed",
      userTurns: [u0],
      attempts: [attempt(0, [failed]), attempt(1, [done])],
    });
    const current = WhamTaskDetails.parse(whamTaskDetails(mixed)).current_assistant_turn;
    expect(current).toMatchObject({
      id: failed.id,
      turn_status: "failed",
      attempt_placement: 0,
      sibling_turn_ids: [done.id],
      output_items: [],
      error: { code: "model_error", message: "the model server answered 500" },
    });
    expect(whamSiblingTurns(mixed, failed.id).sibling_turns[0]?.output_items).toEqual([
      { type: "pr", pr_title: "Add a hello file", pr_message: "", output_diff: { diff: HELLO_DIFF } },
    ]);
  });

  it("give a failed attempt that reported nothing an internal error rather than none", () => {
    const silent = task({ status: "failed", userTurns: [u0], attempts: [attempt(0, [run(0, 0, "failed")])] });
    expect(whamTaskDetails(silent).current_assistant_turn?.error).toEqual({
      code: "internal",
      message: "the attempt failed without reporting why; see the server log",
    });
  });

  it("have a user turn but no assistant turn while the task is queued", () => {
    const queued = WhamTaskDetails.parse(
      whamTaskDetails(task({ userTurns: [u0], attempts: [attempt(0, [])] })),
    );
    expect(queued.task.current_turn_id).toBeNull();
    expect(queued.current_user_turn?.id).toBe(u0.id);
    expect(queued.current_assistant_turn).toBeNull();
    expect(queued.current_diff_task_turn).toBeNull();
  });

  it("leave local image parts out of a user turn's message", () => {
    const withImage = task({
      userTurns: [
        {
          ...u0,
          input: [
            { type: "text", text: "Match this" },
            { type: "localImage", path: "/tmp/a.png" },
          ],
        },
      ],
    });
    expect(whamTaskDetails(withImage).current_user_turn?.input_items).toEqual(prompt("Match this"));
  });
});

it("maps every Kiln run status onto WHAM's five turn statuses", () => {
  const all: AttemptStatus[] = ["queued", "provisioning", "running", "completed", "failed", "cancelled"];
  expect(all.map(whamTurnStatus)).toEqual([
    "pending",
    "pending",
    "in_progress",
    "completed",
    "failed",
    "cancelled",
  ]);
});
