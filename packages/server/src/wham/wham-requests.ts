// WHAM request bodies → Kiln's task requests. A WHAM prompt is the text of every content part of every
// message item, joined by a blank line (as the Codex CLI joins them when it reads a prompt back);
// a `pre_apply_patch` item becomes the task's preApplyPatch.
import {
  type CreateTaskRequest,
  type FollowUpRequest,
  KilnError,
  type WhamCreateTaskRequest,
  type WhamFollowUpRequest,
  type WhamInputItem,
} from "@kiln/protocol";

/** The longest prompt Kiln takes (the limit of TurnInput). */
const MAX_PROMPT_CHARS = 512 * 1024;

/** The prompt of a request's input items; none, or one too long → `invalid_request`. */
export function whamPrompt(items: readonly WhamInputItem[]): string {
  const texts = items.flatMap((item) =>
    item.type === "message" ? item.content.map((part) => part.text) : [],
  );
  const prompt = texts.filter((text) => text !== "").join("\n\n");
  if (prompt.trim() === "") {
    throw new KilnError(
      "invalid_request",
      '"input_items": add a message item with the prompt as text content',
      {
        details: { field: "input_items" },
      },
    );
  }
  if (prompt.length > MAX_PROMPT_CHARS) {
    throw new KilnError(
      "invalid_request",
      `"input_items": the prompt is longer than ${MAX_PROMPT_CHARS} characters`,
      {
        details: { field: "input_items" },
      },
    );
  }
  return prompt;
}

/** The diff of the request's `pre_apply_patch` item, if any (an empty diff counts as none). */
function preApplyPatch(items: readonly WhamInputItem[]): string | undefined {
  const patches = items.flatMap((item) => (item.type === "pre_apply_patch" ? [item.output_diff.diff] : []));
  if (patches.length > 1) {
    throw new KilnError("invalid_request", '"input_items": send at most one pre_apply_patch item', {
      details: { field: "input_items" },
    });
  }
  const patch = patches[0];
  return patch === undefined || patch === "" ? undefined : patch;
}

/** `POST /tasks` as Kiln's CreateTaskRequest, for the already resolved environment id. */
export function kilnCreateTaskRequest(body: WhamCreateTaskRequest, environmentId: string): CreateTaskRequest {
  const patch = preApplyPatch(body.input_items);
  const branch = body.new_task.branch;
  return {
    environmentId,
    prompt: whamPrompt(body.input_items),
    bestOfN: body.metadata?.best_of_n ?? 1,
    ...(branch === null || branch === undefined ? {} : { branch }),
    ...(patch === undefined ? {} : { preApplyPatch: patch }),
  };
}

/** `POST /tasks/{id}/turns` as Kiln's FollowUpRequest (answered by the service's default attempt). */
export function kilnFollowUpRequest(body: WhamFollowUpRequest): FollowUpRequest {
  if (body.input_items.some((item) => item.type === "pre_apply_patch")) {
    throw new KilnError(
      "invalid_request",
      '"input_items": a pre_apply_patch item is only accepted when creating a task; send the follow-up as a message',
      { details: { field: "input_items" } },
    );
  }
  return { prompt: whamPrompt(body.input_items) };
}
