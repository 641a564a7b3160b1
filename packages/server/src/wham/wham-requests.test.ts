import {
  CreateTaskRequest,
  FollowUpRequest,
  KilnError,
  WhamCreateTaskRequest,
  WhamError,
  WhamFollowUpRequest,
  WhamTaskListQuery,
} from "@kiln/protocol";
import { describe, expect, it } from "vitest";
import { errorBody, parseWith } from "../auth/index.ts";
import { kilnCreateTaskRequest, kilnFollowUpRequest } from "./wham-requests.ts";
import { HELLO_DIFF, kilnId } from "./wham-test-tasks.ts";

const ENV = kilnId("env", 1);
const message = (...texts: string[]) => ({
  type: "message",
  role: "user",
  content: texts.map((text) => ({ content_type: "text", text })),
});

/** The spec's create example. */
const specCreate = {
  new_task: { environment_id: "env_1", branch: "main", run_environment_in_qa_mode: false },
  input_items: [message("Add a hello file")],
  metadata: { best_of_n: 2 },
};

const rejection = (f: () => unknown): KilnError => {
  try {
    f();
  } catch (error) {
    if (error instanceof KilnError) return error;
    throw error;
  }
  throw new Error("expected a KilnError");
};

describe("a WHAM create-task body", () => {
  it("becomes Kiln's CreateTaskRequest: prompt, branch and best_of_n", () => {
    const request = kilnCreateTaskRequest(WhamCreateTaskRequest.parse(specCreate), ENV);
    expect(CreateTaskRequest.parse(request)).toEqual({
      environmentId: ENV,
      prompt: "Add a hello file",
      branch: "main",
      bestOfN: 2,
    });
  });

  it("ignores unknown fields at every level", () => {
    const body = WhamCreateTaskRequest.parse({
      ...specCreate,
      client_version: "0.50.0",
      new_task: { ...specCreate.new_task, starting_diff_id: null, qa: { deep: true } },
      input_items: [{ ...message("Add a hello file"), author: "me" }],
      metadata: { best_of_n: 1, surface: "cli" },
    });
    expect(kilnCreateTaskRequest(body, ENV)).toEqual({
      environmentId: ENV,
      prompt: "Add a hello file",
      branch: "main",
      bestOfN: 1,
    });
  });

  it("takes best_of_n 1 when metadata is left out, and the branch from the environment when branch is", () => {
    const body = WhamCreateTaskRequest.parse({
      new_task: { environment_id: "acme/widgets" },
      input_items: [message("Fix the build")],
    });
    expect(kilnCreateTaskRequest(body, ENV)).toEqual({
      environmentId: ENV,
      prompt: "Fix the build",
      bestOfN: 1,
    });
  });

  it("joins every text part of every message with a blank line", () => {
    const body = WhamCreateTaskRequest.parse({
      new_task: { environment_id: ENV },
      input_items: [message("First line", "Second line"), message("Third")],
    });
    expect(kilnCreateTaskRequest(body, ENV).prompt).toBe("First line\n\nSecond line\n\nThird");
  });

  it("turns a pre_apply_patch item into the task's preApplyPatch", () => {
    const body = WhamCreateTaskRequest.parse({
      ...specCreate,
      input_items: [message("Finish it"), { type: "pre_apply_patch", output_diff: { diff: HELLO_DIFF } }],
    });
    expect(kilnCreateTaskRequest(body, ENV)).toMatchObject({
      prompt: "Finish it",
      preApplyPatch: HELLO_DIFF,
    });
  });

  it("is refused with the field named when best_of_n is out of 1–4 or an item type is unknown", () => {
    const tooMany = () =>
      parseWith(WhamCreateTaskRequest, { ...specCreate, metadata: { best_of_n: 5 } }, "body");
    expect(rejection(tooMany).message).toMatch(/^"metadata\.best_of_n": /);
    const odd = () =>
      parseWith(WhamCreateTaskRequest, { ...specCreate, input_items: [{ type: "image", url: "x" }] }, "body");
    expect(rejection(odd).message).toBe(
      '"input_items.0.type": an input item has "type": "message" or "pre_apply_patch"',
    );
  });

  it("without any prompt text is refused as invalid_request", () => {
    const body = WhamCreateTaskRequest.parse({ ...specCreate, input_items: [message("", "")] });
    const error = rejection(() => kilnCreateTaskRequest(body, ENV));
    expect(error.toInfo()).toEqual({
      code: "invalid_request",
      message: '"input_items": add a message item with the prompt as text content',
      retryable: false,
      details: { field: "input_items" },
    });
  });
});

describe("a WHAM follow-up body", () => {
  it("becomes Kiln's FollowUpRequest", () => {
    const body = WhamFollowUpRequest.parse({ input_items: [message("Also say goodbye")], turn_hint: 3 });
    expect(FollowUpRequest.parse(kilnFollowUpRequest(body))).toEqual({ prompt: "Also say goodbye" });
  });

  it("with a pre_apply_patch item is refused", () => {
    const body = WhamFollowUpRequest.parse({
      input_items: [message("Go on"), { type: "pre_apply_patch", output_diff: { diff: HELLO_DIFF } }],
    });
    expect(rejection(() => kilnFollowUpRequest(body)).code).toBe("invalid_request");
  });
});

it("the task list query defaults to 20 current tasks and ignores unknown parameters", () => {
  expect(WhamTaskListQuery.parse({ limit: "5", environment_id: "acme/widgets", ui: "tui" })).toEqual({
    limit: 5,
    task_filter: "current",
    environment_id: "acme/widgets",
  });
  expect(WhamTaskListQuery.parse({})).toEqual({ limit: 20, task_filter: "current" });
});

it("Kiln's error body is a WHAM error body", () => {
  const body = errorBody(new KilnError("not_found", "no task task_x"));
  expect(WhamError.parse(body)).toEqual({ error: { code: "not_found", message: "no task task_x" } });
});
