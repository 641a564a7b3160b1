// `make_pr`: the model's way to hand over the pull request title and body at the end of a task's run
// (as Codex cloud's agents do). The tool only records the text; the diff comes from the workspace.
import { type DynamicToolDefinition, defineTool } from "@kiln/core";
import { z } from "zod";
import description from "./description.md";

/** The PR text a run recorded. */
export interface PullRequestDraft {
  title: string;
  body: string;
}

/** The `make_pr` tool of one attempt's thread; `record` keeps the latest text for the thread. */
export function createMakePrTool(
  record: (threadId: string, draft: PullRequestDraft) => Promise<void>,
): DynamicToolDefinition {
  return defineTool({
    name: "make_pr",
    description,
    parameters: z.strictObject({
      title: z.string().trim().min(1, "give the pull request a title").max(200),
      body: z.string().max(64 * 1024),
    }),
    async execute({ title, body }, { threadId }) {
      await record(threadId, { title, body });
      return "Recorded the pull request title and body.";
    },
  });
}
