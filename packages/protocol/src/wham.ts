// The WHAM (Codex-cloud) task API as Kiln serves it under `/backend-api/wham` and `/api/codex`
// (spec/wham-api.md), so that existing Codex-cloud clients work unchanged. Requests are lenient:
// unknown fields are dropped (z.object strips them), because WHAM clients send fields Kiln has no use
// for. Responses are strict objects: exactly the fields Kiln sends. Names are snake_case as on the
// wire; every timestamp is float epoch seconds (Kiln's own API uses Unix ms).
import { z } from "zod";

/** Float epoch seconds, e.g. `1795234760.07`. */
export const WhamTimestamp = z.number();

// ---------------------------------------------------------------------------------------------
// Environments

/** What an environment's repository is, as WHAM clients see it. */
export const WhamRepoInfo = z.strictObject({
  /** `github` or `gitlab` for a forge-backed environment, `git` otherwise. */
  provider: z.string(),
  /** `owner/repo` (or a GitLab group path) when Kiln can tell it, else null. */
  repository_full_name: z.string().nullable(),
  /** The git URL or server path Kiln clones. */
  repository: z.string(),
  /** The branch tasks start from by default. */
  default_branch: z.string(),
});
export type WhamRepoInfo = z.infer<typeof WhamRepoInfo>;

/** One environment (`GET /environments`, `GET /environments/by-repo/…`). */
export const WhamEnvironment = z.strictObject({
  id: z.string(),
  /** The environment's name. */
  label: z.string(),
  is_pinned: z.boolean(),
  task_count: z.number().int(),
  /** Its repository, keyed by `repository_full_name` (or the repository itself when unknown). */
  repo_map: z.record(z.string(), WhamRepoInfo),
});
export type WhamEnvironment = z.infer<typeof WhamEnvironment>;

/** The environments routes answer a bare JSON array. */
export const WhamEnvironmentList = z.array(WhamEnvironment);

// ---------------------------------------------------------------------------------------------
// Items

/** A text part of a message. */
export const WhamTextContent = z.strictObject({ content_type: z.literal("text"), text: z.string() });

/** A diff as WHAM nests it. */
export const WhamOutputDiff = z.strictObject({ diff: z.string() });

/** The prompt of a user turn, as answered. */
export const WhamUserMessageItem = z.strictObject({
  type: z.literal("message"),
  role: z.literal("user"),
  content: z.array(WhamTextContent),
});

/** What an assistant turn produced: its message, its pull request (with the diff), or a bare diff. */
export const WhamOutputItem = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("message"),
    role: z.literal("assistant"),
    content: z.array(WhamTextContent),
  }),
  z.strictObject({
    type: z.literal("pr"),
    pr_title: z.string(),
    pr_message: z.string(),
    /** A unified git diff against the task's base commit (`git apply`-able). */
    output_diff: WhamOutputDiff,
  }),
  z.strictObject({ type: z.literal("output_diff"), diff: z.string() }),
]);
export type WhamOutputItem = z.infer<typeof WhamOutputItem>;

/** A message part of a request: only text is understood. */
const WhamRequestContent = z.object({
  content_type: z.literal("text", { error: 'only content parts with "content_type": "text" are supported' }),
  text: z.string().max(512 * 1024),
});

/** An input item of a request: a user message, or a diff to apply before the agent starts. */
export const WhamInputItem = z.discriminatedUnion(
  "type",
  [
    z.object({
      type: z.literal("message"),
      role: z.literal("user", { error: 'a message item must have "role": "user"' }).optional(),
      content: z.array(WhamRequestContent).max(100),
    }),
    z.object({
      type: z.literal("pre_apply_patch"),
      output_diff: z.object({ diff: z.string().max(16 * 1024 * 1024) }),
    }),
  ],
  { error: 'an input item has "type": "message" or "pre_apply_patch"' },
);
export type WhamInputItem = z.infer<typeof WhamInputItem>;

// ---------------------------------------------------------------------------------------------
// Tasks

/** `POST /tasks`. `environment_id` is an environment id or an `owner/repo` string. */
export const WhamCreateTaskRequest = z.object({
  new_task: z.object({
    environment_id: z.string().min(1).max(300),
    branch: z.string().min(1).max(200).nullish(),
    /** Accepted and ignored: Kiln has no QA mode. */
    run_environment_in_qa_mode: z.boolean().nullish(),
  }),
  input_items: z.array(WhamInputItem).min(1).max(100),
  metadata: z.object({ best_of_n: z.number().int().min(1).max(4).nullish() }).nullish(),
});
export type WhamCreateTaskRequest = z.infer<typeof WhamCreateTaskRequest>;

/** `POST /tasks` → the new task's id (the task then runs in the background). */
export const WhamCreateTaskResponse = z.strictObject({ task: z.strictObject({ id: z.string() }) });
export type WhamCreateTaskResponse = z.infer<typeof WhamCreateTaskResponse>;

/** Where a turn is. */
export const WhamTurnStatus = z.enum(["pending", "in_progress", "completed", "failed", "cancelled"]);
export type WhamTurnStatus = z.infer<typeof WhamTurnStatus>;

/** A task's state, the fallback of clients that find no `latest_turn_status_display`. */
export const WhamTaskState = z.enum(["pending", "ready", "applied", "error"]);
export type WhamTaskState = z.infer<typeof WhamTaskState>;

/** Lines changed by a turn's diff. */
export const WhamDiffStats = z.strictObject({
  files_modified: z.number().int(),
  lines_added: z.number().int(),
  lines_removed: z.number().int(),
});

/** The current assistant turn, as a task listing shows it. */
export const WhamLatestTurnStatusDisplay = z.strictObject({
  turn_id: z.string(),
  turn_status: WhamTurnStatus,
  created_at: WhamTimestamp,
  updated_at: WhamTimestamp,
  /** The other attempts' answers to the same prompt (attempts = this length + 1). */
  sibling_turn_ids: z.array(z.string()),
  diff_stats: WhamDiffStats,
});

/** A task's status as clients display it. */
export const WhamTaskStatusDisplay = z.strictObject({
  environment_label: z.string(),
  state: WhamTaskState,
  /** Null until an attempt has started answering. */
  latest_turn_status_display: WhamLatestTurnStatusDisplay.nullable(),
});
export type WhamTaskStatusDisplay = z.infer<typeof WhamTaskStatusDisplay>;

/** A pull request an attempt was published as. */
export const WhamExternalPullRequest = z.strictObject({
  id: z.string(),
  assistant_turn_id: z.string(),
  pull_request: z.strictObject({
    number: z.number().int(),
    url: z.string(),
    state: z.string(),
    merged: z.boolean(),
    /** Kiln does not ask the forge, so this is always false. */
    mergeable: z.boolean(),
    title: z.string().optional(),
    body: z.string().optional(),
    head: z.string(),
    head_sha: z.string(),
  }),
});

/** One task of `GET /tasks/list`. */
export const WhamTaskListItem = z.strictObject({
  id: z.string(),
  title: z.string(),
  has_generated_title: z.boolean(),
  created_at: WhamTimestamp,
  updated_at: WhamTimestamp,
  task_status_display: WhamTaskStatusDisplay,
  archived: z.boolean(),
  has_unread_turn: z.boolean(),
  /** Always empty: the Codex CLI hides tasks with pull requests from its list as "reviews". */
  pull_requests: z.array(WhamExternalPullRequest),
});
export type WhamTaskListItem = z.infer<typeof WhamTaskListItem>;

/** `GET /tasks/list`. */
export const WhamTaskList = z.strictObject({
  items: z.array(WhamTaskListItem),
  /** Opaque; null on the last page. */
  cursor: z.string().nullable(),
});
export type WhamTaskList = z.infer<typeof WhamTaskList>;

/** `GET /tasks/list` query (unknown parameters are ignored). */
export const WhamTaskListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(20),
  task_filter: z.enum(["current", "archived", "all"]).default("current"),
  cursor: z.string().min(1).max(500).optional(),
  /** An environment id or an `owner/repo` string. */
  environment_id: z.string().min(1).max(300).optional(),
});
export type WhamTaskListQuery = z.infer<typeof WhamTaskListQuery>;

/** A turn's error. */
export const WhamTurnError = z.strictObject({ code: z.string(), message: z.string() });

/** A prompt given to the task. */
export const WhamUserTurn = z.strictObject({
  id: z.string(),
  role: z.literal("user"),
  /** A recorded prompt is always complete. */
  turn_status: z.literal("completed"),
  created_at: WhamTimestamp,
  input_items: z.array(WhamUserMessageItem),
});
export type WhamUserTurn = z.infer<typeof WhamUserTurn>;

/** One attempt's answer to a prompt. */
export const WhamAssistantTurn = z.strictObject({
  id: z.string(),
  role: z.literal("assistant"),
  turn_status: WhamTurnStatus,
  created_at: WhamTimestamp,
  /** 0-based index of the attempt (clients order attempts by it, then created_at, then id). */
  attempt_placement: z.number().int(),
  sibling_turn_ids: z.array(z.string()),
  /** Partial while the turn is in progress. */
  output_items: z.array(WhamOutputItem),
  error: WhamTurnError.nullable(),
});
export type WhamAssistantTurn = z.infer<typeof WhamAssistantTurn>;

/** A user or an assistant turn. */
export const WhamTurn = z.discriminatedUnion("role", [WhamUserTurn, WhamAssistantTurn]);
export type WhamTurn = z.infer<typeof WhamTurn>;

/** The `task` object of the task details. */
export const WhamTask = z.strictObject({
  id: z.string(),
  title: z.string(),
  created_at: WhamTimestamp,
  updated_at: WhamTimestamp,
  has_generated_title: z.boolean(),
  /** The current assistant turn (null until one exists). */
  current_turn_id: z.string().nullable(),
  has_unread_turn: z.boolean(),
  archived: z.boolean(),
  external_pull_requests: z.array(WhamExternalPullRequest),
  environment_id: z.string(),
  task_status_display: WhamTaskStatusDisplay,
});
export type WhamTask = z.infer<typeof WhamTask>;

/** `GET /tasks/{id}`. */
export const WhamTaskDetails = z.strictObject({
  task: WhamTask,
  task_status_display: WhamTaskStatusDisplay,
  /** The latest prompt. */
  current_user_turn: WhamUserTurn.nullable(),
  /** Its answer by the lowest-placed attempt (null until one exists). */
  current_assistant_turn: WhamAssistantTurn.nullable(),
  /** The current assistant turn's diff, when it has one. */
  current_diff_task_turn: z
    .strictObject({
      id: z.string(),
      output_items: z.array(z.strictObject({ type: z.literal("output_diff"), diff: z.string() })),
    })
    .nullable(),
});
export type WhamTaskDetails = z.infer<typeof WhamTaskDetails>;

/** `GET /tasks/{id}/turns/{turnId}/sibling_turns`: the other attempts' answers to the same prompt. */
export const WhamSiblingTurns = z.strictObject({ sibling_turns: z.array(WhamAssistantTurn) });
export type WhamSiblingTurns = z.infer<typeof WhamSiblingTurns>;

/** `GET /tasks/{id}/turns`: every turn, in order (each prompt, then its answers by placement). */
export const WhamTurnList = z.strictObject({ turns: z.array(WhamTurn) });
export type WhamTurnList = z.infer<typeof WhamTurnList>;

/** `POST /tasks/{id}/turns`: a follow-up prompt. */
export const WhamFollowUpRequest = z.object({ input_items: z.array(WhamInputItem).min(1).max(100) });
export type WhamFollowUpRequest = z.infer<typeof WhamFollowUpRequest>;

/** `POST /tasks/{id}/turns` → the new prompt and the turn that will answer it. */
export const WhamFollowUpResponse = z.strictObject({
  task: z.strictObject({ id: z.string() }),
  user_turn: WhamUserTurn,
  assistant_turn: WhamAssistantTurn,
});
export type WhamFollowUpResponse = z.infer<typeof WhamFollowUpResponse>;

// ---------------------------------------------------------------------------------------------
// Usage

/** One rate-limit window; its durations and times are whole seconds, as the Codex CLI decodes them. */
export const WhamRateLimitWindow = z.strictObject({
  /** 0–100, fractional as in the spec's example (the Codex CLI's own decoder expects an integer). */
  used_percent: z.number(),
  limit_window_seconds: z.number().int(),
  reset_after_seconds: z.number().int(),
  /** Epoch seconds. */
  reset_at: z.number().int(),
});
export type WhamRateLimitWindow = z.infer<typeof WhamRateLimitWindow>;

/** `GET /usage`: the caller's rate-limit windows and token use. */
export const WhamUsage = z.strictObject({
  plan_type: z.literal("self_hosted"),
  rate_limit: z.strictObject({
    /** False once a window is used up. */
    allowed: z.boolean(),
    limit_reached: z.boolean(),
    primary_window: WhamRateLimitWindow.nullable(),
    secondary_window: WhamRateLimitWindow.nullable(),
  }),
  primary_window: WhamRateLimitWindow.nullable(),
  secondary_window: WhamRateLimitWindow.nullable(),
  tokens: z.strictObject({
    input: z.number().int(),
    cached_input: z.number().int(),
    output: z.number().int(),
  }),
});
export type WhamUsage = z.infer<typeof WhamUsage>;

// ---------------------------------------------------------------------------------------------
// Sandboxes

/** `POST /tasks/{id}/environment` body (may be empty): which attempt's sandbox (default 0). */
export const WhamTaskEnvironmentRequest = z.object({
  attempt_placement: z.number().int().min(0).max(3).nullish(),
});

/** A task attempt's sandbox. Its routes are `/sandbox/{id}/…`. */
export const WhamSandbox = z.strictObject({
  id: z.string(),
  task_id: z.string().nullable(),
  attempt_id: z.string().nullable(),
  state: z.enum(["running", "stopped"]),
  /** Network access of commands run in it. */
  network: z.enum(["off", "on"]),
  created_at: WhamTimestamp,
  last_active_at: WhamTimestamp,
});
export type WhamSandbox = z.infer<typeof WhamSandbox>;

/** `POST /tasks/{id}/environment`. */
export const WhamSandboxResponse = z.strictObject({ sandbox: WhamSandbox });
export type WhamSandboxResponse = z.infer<typeof WhamSandboxResponse>;

/** One environment template (`GET /sandbox/templates`). */
export const WhamSandboxTemplate = z.strictObject({
  id: z.string(),
  label: z.string(),
  description: z.string(),
  setup_script: z.string(),
  network: z.enum(["off", "on"]),
});
export type WhamSandboxTemplate = z.infer<typeof WhamSandboxTemplate>;

/** `GET /sandbox/templates`. */
export const WhamSandboxTemplateList = z.strictObject({ templates: z.array(WhamSandboxTemplate) });

/** `POST /sandbox/{id}/exec` (unknown fields ignored). */
export const WhamSandboxExecRequest = z.object({
  command: z.union([
    z
      .string()
      .min(1)
      .max(64 * 1024),
    z
      .array(z.string().max(64 * 1024))
      .min(1)
      .max(1000),
  ]),
  cwd: z.string().max(4096).nullish(),
  timeout_ms: z.number().int().min(1).max(3600_000).nullish(),
});
export type WhamSandboxExecRequest = z.infer<typeof WhamSandboxExecRequest>;

/** `POST /sandbox/{id}/exec` → the finished command (the native answer, which may carry more). */
export const WhamSandboxExecResult = z.object({
  exit_code: z.number().int().nullable(),
  stdout: z.string(),
  stderr: z.string(),
  duration_ms: z.number(),
});
export type WhamSandboxExecResult = z.infer<typeof WhamSandboxExecResult>;

/** `GET /sandbox/{id}/status` (the native answer, which may carry more). */
export const WhamSandboxStatus = z.object({
  state: z.enum(["running", "stopped"]),
  uptime_s: z.number(),
  cpu_percent: z.number(),
  memory_bytes: z.number(),
  disk_bytes: z.number(),
});
export type WhamSandboxStatus = z.infer<typeof WhamSandboxStatus>;

// ---------------------------------------------------------------------------------------------
// Errors

/** Every WHAM error body: Kiln's `{ error: ErrorInfo }`, of which WHAM clients read code and message. */
export const WhamError = z.object({
  error: z.object({ code: z.string(), message: z.string() }),
});
export type WhamError = z.infer<typeof WhamError>;
