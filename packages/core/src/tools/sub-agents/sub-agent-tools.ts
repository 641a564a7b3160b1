// spawn_agent, send_input, wait_agent, close_agent: the model's handle on its sub-agents (see
// agent/sub-agents.ts). Each call shows as a `subAgent` item in the parent's stream.
import { KilnError, type SubAgentItem } from "@kiln/protocol";
import { z } from "zod";
import {
  describeArgumentError,
  parseJsonArguments,
  type Tool,
  type ToolContext,
  ToolError,
} from "../tool.ts";
import description from "./description.md";

function control(ctx: ToolContext) {
  if (ctx.agents === undefined) throw ToolError.respondToModel("sub-agents are not available in this thread");
  return ctx.agents;
}

/** A durable engine's sub-agents are calls to child objects: they journal themselves. */
function runsOutsideSteps(ctx: ToolContext): boolean {
  return ctx.agents?.journalsItself === true;
}

function parseWith<T>(schema: z.ZodType<T>, name: string) {
  return (call: Parameters<Tool["parse"]>[0]): T => {
    const parsed = schema.safeParse(parseJsonArguments(call));
    if (!parsed.success) throw ToolError.respondToModel(describeArgumentError(name, parsed.error.issues));
    return parsed.data;
  };
}

/** Limit and lookup errors are for the model to act on. */
function asToolError(error: unknown): never {
  if (error instanceof KilnError && error.code !== "turn_interrupted")
    throw ToolError.respondToModel(error.message);
  throw error;
}

const Spawn = z.object({ message: z.string().min(1), model: z.string().min(1).optional() });
const Send = z.object({ agent_id: z.string(), message: z.string().min(1) });
const Wait = z.object({
  agent_ids: z.array(z.string()).optional(),
  timeout_ms: z.number().int().positive().max(3_600_000).optional(),
});
const Close = z.object({ agent_id: z.string() });

/** The four sub-agent tools. */
export function createSubAgentTools(): Tool[] {
  const spawn: Tool<z.infer<typeof Spawn>> = {
    name: "spawn_agent",
    spec: {
      type: "function",
      name: "spawn_agent",
      description,
      parameters: {
        type: "object",
        properties: {
          message: { type: "string", description: "The complete task for the sub-agent." },
          model: { type: "string" },
        },
        required: ["message"],
        additionalProperties: false,
      },
    },
    parse: parseWith(Spawn, "spawn_agent"),
    isMutating: () => true,
    runsOutsideSteps,
    async execute(args, ctx) {
      let id: string;
      try {
        id = await control(ctx).spawn(args.message, args.model, ctx.approvalPolicy);
      } catch (error) {
        return asToolError(error);
      }
      const item: SubAgentItem = {
        id: ctx.newItemId(),
        type: "subAgent",
        childThreadId: id,
        prompt: args.message,
        status: "in_progress",
      };
      ctx.emit({ type: "item/started", item });
      ctx.emit({ type: "item/completed", item });
      return JSON.stringify({ agent_id: id });
    },
  };
  const send: Tool<z.infer<typeof Send>> = {
    name: "send_input",
    spec: {
      type: "function",
      name: "send_input",
      description: "Sends more instructions (or a new task) to a sub-agent. See spawn_agent.",
      parameters: {
        type: "object",
        properties: { agent_id: { type: "string" }, message: { type: "string" } },
        required: ["agent_id", "message"],
        additionalProperties: false,
      },
    },
    parse: parseWith(Send, "send_input"),
    isMutating: () => true,
    runsOutsideSteps,
    async execute(args, ctx) {
      try {
        await control(ctx).send(args.agent_id, args.message);
      } catch (error) {
        return asToolError(error);
      }
      return JSON.stringify({ agent_id: args.agent_id, delivered: true });
    },
  };
  const wait: Tool<z.infer<typeof Wait>> = {
    name: "wait_agent",
    spec: {
      type: "function",
      name: "wait_agent",
      description:
        "Waits until the given sub-agents (default: all of yours) finish their work (or timeout_ms passes, default 10 minutes) and returns each one's status and final message.",
      parameters: {
        type: "object",
        properties: {
          agent_ids: { type: "array", items: { type: "string" } },
          timeout_ms: { type: "number" },
        },
        additionalProperties: false,
      },
    },
    parse: parseWith(Wait, "wait_agent"),
    isMutating: () => false,
    runsOutsideSteps,
    async execute(args, ctx) {
      try {
        const agents = control(ctx);
        const ids =
          args.agent_ids === undefined || args.agent_ids.length === 0 ? agents.ids() : args.agent_ids;
        const results = await agents.wait(ids, args.timeout_ms ?? 600_000, ctx.signal);
        for (const r of results) {
          if (r.status === "running") continue;
          const item: SubAgentItem = {
            id: ctx.newItemId(),
            type: "subAgent",
            childThreadId: r.id,
            prompt: "",
            status:
              r.status === "completed" ? "completed" : r.status === "interrupted" ? "interrupted" : "failed",
            result: r.finalResponse,
          };
          ctx.emit({ type: "item/completed", item });
        }
        return JSON.stringify(
          results.map((r) => ({ agent_id: r.id, status: r.status, final_message: r.finalResponse })),
        );
      } catch (error) {
        return asToolError(error);
      }
    },
  };
  const close: Tool<z.infer<typeof Close>> = {
    name: "close_agent",
    spec: {
      type: "function",
      name: "close_agent",
      description: "Stops a sub-agent you no longer need.",
      parameters: {
        type: "object",
        properties: { agent_id: { type: "string" } },
        required: ["agent_id"],
        additionalProperties: false,
      },
    },
    parse: parseWith(Close, "close_agent"),
    isMutating: () => true,
    runsOutsideSteps,
    async execute(args, ctx) {
      try {
        await control(ctx).close(args.agent_id);
      } catch (error) {
        return asToolError(error);
      }
      return JSON.stringify({ agent_id: args.agent_id, closed: true });
    },
  };
  return [spawn, send, wait, close] as Tool[];
}
