// The turn routes' answers: a run's siblings, every turn of a task in order, and a follow-up's new
// turns (see wham-mapping.ts for what "current", "answer" and "sibling" mean).
import {
  type InputPart,
  KilnError,
  type Task,
  type WhamAssistantTurn,
  type WhamFollowUpResponse,
  type WhamSiblingTurns,
  type WhamTurn,
  type WhamTurnList,
} from "@kiln/protocol";
import type { TaskService } from "../tasks/task-service.ts";
import { answersTo, whamAssistantTurn, whamTime, whamUserTurn } from "./wham-mapping.ts";

/** `GET /tasks/{id}/turns/{turnId}/sibling_turns`: the other attempts' answers to the same prompt. */
export function whamSiblingTurns(task: Task, turnId: string): WhamSiblingTurns {
  const own = task.attempts.flatMap((a) => a.turns).find((t) => t.id === turnId);
  if (own === undefined) {
    throw new KilnError("not_found", `task ${task.id} has no assistant turn ${turnId}`, {
      details: { field: "turnId" },
    });
  }
  return {
    sibling_turns: answersTo(task, own.userTurnId)
      .filter((a) => a.turn.id !== turnId)
      .map((a) => whamAssistantTurn(task, a)),
  };
}

/** `GET /tasks/{id}/turns`: each prompt in order, each followed by its answers by placement. */
export function whamTurnList(task: Task): WhamTurnList {
  const turns: WhamTurn[] = [...task.userTurns]
    .sort((a, b) => a.index - b.index)
    .flatMap((user) => [
      whamUserTurn(user),
      ...answersTo(task, user.id).map((a) => whamAssistantTurn(task, a)),
    ]);
  return { turns };
}

/** What `TaskService.followUp` answers. */
export type FollowUpAccepted = Awaited<ReturnType<TaskService["followUp"]>>;

/**
 * `POST /tasks/{id}/turns` → the new prompt and its answering turn, read from the task after the
 * follow-up was accepted. A turn not recorded yet is described from the request (the prompt) or as
 * pending (the answer), so the client always learns both ids.
 */
export function whamFollowUpResponse(
  task: Task,
  accepted: FollowUpAccepted,
  request: { input: InputPart[]; now: number },
): WhamFollowUpResponse {
  const attempt = task.attempts.find((a) => a.id === accepted.attemptId);
  if (attempt === undefined) {
    throw new KilnError(
      "internal",
      `task ${task.id} has no attempt ${accepted.attemptId} to answer the follow-up`,
    );
  }
  const user = task.userTurns.find((t) => t.id === accepted.userTurnId) ?? {
    id: accepted.userTurnId,
    index: task.userTurns.length,
    input: request.input,
    attemptIds: [attempt.id],
    createdAt: request.now,
  };
  const turn = attempt.turns.find((t) => t.id === accepted.turnId);
  const assistant: WhamAssistantTurn =
    turn === undefined
      ? {
          id: accepted.turnId,
          role: "assistant",
          turn_status: "pending",
          created_at: whamTime(request.now),
          attempt_placement: attempt.index,
          sibling_turn_ids: [],
          output_items: [],
          error: null,
        }
      : whamAssistantTurn(task, { turn, attempt });
  return { task: { id: task.id }, user_turn: whamUserTurn(user), assistant_turn: assistant };
}
