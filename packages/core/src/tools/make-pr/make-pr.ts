// `make_pr`: the model's way to hand over the pull request title and body at the end of a task's run
// (as Codex cloud's agents do). The tool only answers; its call — a `toolCall` item with the title and
// body as arguments, in the thread's events — is the record the task service reads at the run's end,
// whichever process ran the turn (a single node or a durable worker). The diff comes from the workspace.
import type { ThreadItem } from "@kiln/protocol";
import { z } from "zod";
import { type DynamicToolDefinition, defineTool } from "../dynamic-tool/dynamic-tool.ts";
import description from "./description.md";

/** The tool's name. */
export const MAKE_PR_TOOL = "make_pr";

/** The PR text a run recorded. */
export interface PullRequestDraft {
  title: string;
  body: string;
}

const Draft = z.strictObject({
  title: z.string().trim().min(1, "give the pull request a title").max(200),
  body: z.string().max(64 * 1024),
});

/** The `make_pr` tool. */
export function createMakePrTool(): DynamicToolDefinition {
  return defineTool({
    name: MAKE_PR_TOOL,
    description,
    parameters: Draft,
    execute: () => "Recorded the pull request title and body.",
  });
}

/** The draft a completed `make_pr` call item recorded, if `item` is one. */
export function pullRequestDraftOf(item: ThreadItem): PullRequestDraft | undefined {
  if (item.type !== "toolCall" || item.tool !== MAKE_PR_TOOL || item.status !== "completed") return undefined;
  const parsed = Draft.safeParse(item.arguments);
  return parsed.success ? parsed.data : undefined;
}
