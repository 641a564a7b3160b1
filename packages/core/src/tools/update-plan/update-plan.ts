import { PlanStep } from "@kiln/protocol";
import { z } from "zod";
import { describeArgumentError, parseJsonArguments, type Tool, ToolError } from "../tool.ts";
import description from "./description.md";

const UpdatePlanArgs = z.object({
  explanation: z.string().optional(),
  plan: z.array(PlanStep),
});
type UpdatePlanArgs = z.infer<typeof UpdatePlanArgs>;

/** The update_plan tool: one plan item per turn, started on the first call and updated after. */
export function createUpdatePlanTool(): Tool<UpdatePlanArgs> {
  return {
    name: "update_plan",
    spec: {
      type: "function",
      name: "update_plan",
      description,
      parameters: {
        type: "object",
        properties: {
          explanation: { type: "string" },
          plan: {
            type: "array",
            items: {
              type: "object",
              properties: {
                step: { type: "string" },
                status: { type: "string", enum: ["pending", "in_progress", "completed"] },
              },
              required: ["step", "status"],
              additionalProperties: false,
            },
          },
        },
        required: ["plan"],
        additionalProperties: false,
      },
    },
    parse(call) {
      const parsed = UpdatePlanArgs.safeParse(parseJsonArguments(call));
      if (!parsed.success)
        throw ToolError.respondToModel(describeArgumentError("update_plan", parsed.error.issues));
      const inProgress = parsed.data.plan.filter((s) => s.status === "in_progress").length;
      if (inProgress > 1) throw ToolError.respondToModel("at most one step may be in_progress at a time");
      return parsed.data;
    },
    isMutating: () => false,
    async execute(args, ctx) {
      const first = ctx.plan.itemId === undefined;
      const id = ctx.plan.itemId ?? ctx.newItemId();
      ctx.plan.itemId = id;
      ctx.plan.steps = args.plan;
      const item = {
        id,
        type: "plan" as const,
        steps: args.plan,
        ...(args.explanation === undefined ? {} : { explanation: args.explanation }),
      };
      ctx.emit({ type: first ? "item/started" : "item/updated", item });
      return "Plan updated";
    },
  };
}
