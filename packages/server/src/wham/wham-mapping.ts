// Kiln tasks → the WHAM task API (spec/wham-api.md; decision 0007). A WHAM task is a Kiln task; a WHAM
// user turn is a Kiln user turn; a WHAM assistant turn is one run of one attempt. The "current" user
// turn is the latest prompt and the current assistant turn is its answer by the lowest-placed
// attempt; the other attempts' answers to the same prompt are its siblings. Pure functions only.
import {
  type AssistantTurn,
  type Attempt,
  type AttemptStatus,
  assertNever,
  type DiffStats,
  type Task,
  type UserTurn,
  type WhamAssistantTurn,
  type WhamOutputItem,
  type WhamTaskDetails,
  type WhamTaskListItem,
  type WhamTaskState,
  type WhamTaskStatusDisplay,
  type WhamTurnStatus,
  type WhamUserTurn,
} from "@kiln/protocol";

/** Kiln's Unix ms as WHAM's float epoch seconds. */
export function whamTime(ms: number): number {
  return ms / 1000;
}

/** A run's status in WHAM's vocabulary. */
export function whamTurnStatus(status: AttemptStatus): WhamTurnStatus {
  switch (status) {
    case "queued":
    case "provisioning":
      return "pending";
    case "running":
      return "in_progress";
    case "completed":
      return "completed";
    case "failed":
      return "failed";
    case "cancelled":
      return "cancelled";
    default:
      return assertNever(status);
  }
}

/** The task's `state`: what clients show when they find no latest turn. */
export function whamTaskState(task: Task): WhamTaskState {
  switch (task.status) {
    case "queued":
    case "provisioning":
    case "running":
      return "pending";
    case "completed":
      return task.attempts.some((a) => a.published !== undefined) ? "applied" : "ready";
    case "failed":
    case "cancelled":
      return "error";
    default:
      return assertNever(task.status);
  }
}

/** One run together with the attempt it belongs to. */
export interface Answer {
  turn: AssistantTurn;
  attempt: Attempt;
}

/** The runs answering a user turn, by attempt placement, then creation time, then id. */
export function answersTo(task: Task, userTurnId: string): Answer[] {
  return task.attempts
    .flatMap((attempt) =>
      attempt.turns.filter((t) => t.userTurnId === userTurnId).map((turn) => ({ turn, attempt })),
    )
    .sort(
      (a, b) =>
        a.attempt.index - b.attempt.index ||
        a.turn.createdAt - b.turn.createdAt ||
        (a.turn.id < b.turn.id ? -1 : a.turn.id > b.turn.id ? 1 : 0),
    );
}

/** The latest prompt (highest index). */
export function currentUserTurn(task: Task): UserTurn | undefined {
  return task.userTurns.reduce<UserTurn | undefined>(
    (latest, turn) => (latest === undefined || turn.index > latest.index ? turn : latest),
    undefined,
  );
}

/** The latest prompt's answer by the lowest-placed attempt (none until a run is recorded). */
export function currentAnswer(task: Task): Answer | undefined {
  const user = currentUserTurn(task);
  return user === undefined ? undefined : answersTo(task, user.id)[0];
}

/** The ids of the other attempts' answers to the same prompt, by placement. */
function siblingIds(task: Task, turn: AssistantTurn): string[] {
  return answersTo(task, turn.userTurnId)
    .map((a) => a.turn.id)
    .filter((id) => id !== turn.id);
}

/** Diff stats in WHAM's names (zeros before a run has a diff). */
function whamDiffStats(stats: DiffStats | undefined) {
  return {
    files_modified: stats?.filesModified ?? 0,
    lines_added: stats?.linesAdded ?? 0,
    lines_removed: stats?.linesRemoved ?? 0,
  };
}

/** A prompt as a WHAM user turn (text parts only: WHAM messages carry no local image paths). */
export function whamUserTurn(turn: UserTurn): WhamUserTurn {
  const content = turn.input.flatMap((part) => {
    switch (part.type) {
      case "text":
        return [{ content_type: "text" as const, text: part.text }];
      case "localImage":
        return [];
      default:
        return assertNever(part);
    }
  });
  return {
    id: turn.id,
    role: "user",
    turn_status: "completed",
    created_at: whamTime(turn.createdAt),
    input_items: [{ type: "message", role: "user", content }],
  };
}

/**
 * What a run produced so far: the agent's message, then — when the workspace differs from the base
 * commit — a `pr` item carrying the diff (titled by the model's `make_pr`, else by the task).
 */
function outputItems(task: Task, turn: AssistantTurn): WhamOutputItem[] {
  const items: WhamOutputItem[] = [];
  if (turn.message !== undefined && turn.message !== "") {
    items.push({
      type: "message",
      role: "assistant",
      content: [{ content_type: "text", text: turn.message }],
    });
  }
  if (turn.diff !== undefined && turn.diff !== "") {
    items.push({
      type: "pr",
      pr_title: turn.pr?.title ?? task.title,
      pr_message: turn.pr?.body ?? "",
      output_diff: { diff: turn.diff },
    });
  }
  return items;
}

/** A run's error; a failed run always has one so that clients can say why. */
function turnError(turn: AssistantTurn): WhamAssistantTurn["error"] {
  if (turn.error !== undefined) return { code: turn.error.code, message: turn.error.message };
  if (turn.status === "failed") {
    return { code: "internal", message: "the attempt failed without reporting why; see the server log" };
  }
  return null;
}

/** One run as a WHAM assistant turn. */
export function whamAssistantTurn(task: Task, answer: Answer): WhamAssistantTurn {
  const { turn, attempt } = answer;
  return {
    id: turn.id,
    role: "assistant",
    turn_status: whamTurnStatus(turn.status),
    created_at: whamTime(turn.createdAt),
    attempt_placement: attempt.index,
    sibling_turn_ids: siblingIds(task, turn),
    output_items: outputItems(task, turn),
    error: turnError(turn),
  };
}

/** The task's status display: environment, state and its current assistant turn. */
export function whamTaskStatusDisplay(task: Task): WhamTaskStatusDisplay {
  const current = currentAnswer(task);
  return {
    environment_label: task.environmentName,
    state: whamTaskState(task),
    latest_turn_status_display:
      current === undefined
        ? null
        : {
            turn_id: current.turn.id,
            turn_status: whamTurnStatus(current.turn.status),
            created_at: whamTime(current.turn.createdAt),
            updated_at: whamTime(current.turn.updatedAt),
            sibling_turn_ids: siblingIds(task, current.turn),
            diff_stats: whamDiffStats(current.turn.diffStats),
          },
  };
}

/** A task as `GET /tasks/list` shows it. */
export function whamTaskListItem(task: Task): WhamTaskListItem {
  return {
    id: task.id,
    title: task.title,
    has_generated_title: false,
    created_at: whamTime(task.createdAt),
    updated_at: whamTime(task.updatedAt),
    task_status_display: whamTaskStatusDisplay(task),
    archived: task.archived,
    has_unread_turn: false,
    // Left empty on purpose: the Codex CLI treats a listed task with pull requests as a review and
    // hides it. Published pull requests are in the task details (`external_pull_requests`).
    pull_requests: [],
  };
}

/** The pull requests the task's attempts were published as. */
function externalPullRequests(task: Task): WhamTaskDetails["task"]["external_pull_requests"] {
  return task.attempts.flatMap((attempt) => {
    const published = attempt.published;
    const pr = published?.pullRequest;
    const turn = attempt.turns.at(-1);
    if (published === undefined || pr === undefined || turn === undefined) return [];
    const state = pr.state ?? "open";
    return [
      {
        id: attempt.id,
        assistant_turn_id: turn.id,
        pull_request: {
          number: pr.number,
          url: pr.url,
          state,
          merged: state === "merged",
          mergeable: false,
          ...(attempt.pr === undefined ? {} : { title: attempt.pr.title, body: attempt.pr.body }),
          head: published.branch,
          head_sha: published.commit,
        },
      },
    ];
  });
}

/** `GET /tasks/{id}`. */
export function whamTaskDetails(task: Task): WhamTaskDetails {
  const display = whamTaskStatusDisplay(task);
  const user = currentUserTurn(task);
  const current = currentAnswer(task);
  const diff = current?.turn.diff;
  return {
    task: {
      id: task.id,
      title: task.title,
      created_at: whamTime(task.createdAt),
      updated_at: whamTime(task.updatedAt),
      has_generated_title: false,
      current_turn_id: current?.turn.id ?? null,
      has_unread_turn: false,
      archived: task.archived,
      external_pull_requests: externalPullRequests(task),
      environment_id: task.environmentId,
      task_status_display: display,
    },
    task_status_display: display,
    current_user_turn: user === undefined ? null : whamUserTurn(user),
    current_assistant_turn: current === undefined ? null : whamAssistantTurn(task, current),
    current_diff_task_turn:
      current === undefined || diff === undefined || diff === ""
        ? null
        : { id: current.turn.id, output_items: [{ type: "output_diff", diff }] },
  };
}
