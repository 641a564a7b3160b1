// Tools registered by an embedding program: a name, a description, parameters as a zod schema or a
// JSON Schema, and an async callback. Arguments are validated (with the zod schema when given) before
// the callback runs; its result (string or JSON) goes back to the model.
import { KilnError, type ToolCallItem } from "@kiln/protocol";
import { Ajv } from "ajv";
import { z } from "zod";
import { describeArgumentError, parseJsonArguments, type Tool, ToolError } from "../tool.ts";

/** A tool defined by the program embedding Kiln. */
export interface DynamicToolDefinition {
  name: string;
  description: string;
  /** A zod schema (validated with zod) or a JSON Schema object (validated with Ajv). */
  parameters: z.ZodType | Record<string, unknown>;
  /** Runs the call; a string or any JSON value goes back to the model. Throw to report an error to it. */
  execute(args: unknown, context: { threadId: string; signal: AbortSignal }): Promise<unknown> | unknown;
  /** Declares the tool as read-only (it may then run in parallel with other reads). Default false. */
  readOnly?: boolean;
}

/**
 * A typed definition: `execute` receives the arguments as the zod schema parses them
 * (`defineTool({ parameters: z.object({ city: z.string() }), execute: async ({ city }) => … })`).
 */
export function defineTool<S extends z.ZodType>(definition: {
  name: string;
  description: string;
  parameters: S;
  execute(args: z.infer<S>, context: { threadId: string; signal: AbortSignal }): Promise<unknown> | unknown;
  readOnly?: boolean;
}): DynamicToolDefinition {
  return definition as DynamicToolDefinition;
}

/** Wraps a definition as a Kiln tool. */
export function createDynamicTool(definition: DynamicToolDefinition): Tool<unknown> {
  if (!/^[a-zA-Z0-9_-]{1,64}$/.test(definition.name)) {
    throw new KilnError(
      "invalid_request",
      `tool name "${definition.name}" must be 1–64 letters, digits, _ or -`,
    );
  }
  const validate = validator(definition);
  return {
    name: definition.name,
    spec: {
      type: "function",
      name: definition.name,
      description: definition.description,
      parameters: jsonSchema(definition.parameters),
    },
    parse(call) {
      const args = parseJsonArguments(call);
      const problem = validate(args);
      if (problem !== undefined) throw ToolError.respondToModel(problem);
      return definition.parameters instanceof z.ZodType ? definition.parameters.parse(args) : args;
    },
    isMutating: () => definition.readOnly !== true,
    async execute(args, ctx) {
      const item: ToolCallItem = {
        id: ctx.newItemId(),
        type: "toolCall",
        tool: definition.name,
        arguments: args,
        status: "in_progress",
      };
      ctx.emit({ type: "item/started", item });
      try {
        const result = await definition.execute(args, { threadId: ctx.threadId, signal: ctx.signal });
        const output = typeof result === "string" ? result : JSON.stringify(result ?? null);
        ctx.emit({ type: "item/completed", item: { ...item, output, status: "completed" } });
        return output;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        ctx.emit({ type: "item/completed", item: { ...item, output: message, status: "failed" } });
        throw ToolError.respondToModel(`${definition.name} failed: ${message}`);
      }
    },
  };
}

function jsonSchema(parameters: DynamicToolDefinition["parameters"]): Record<string, unknown> {
  if (!(parameters instanceof z.ZodType)) return parameters;
  const { $schema: _, ...schema } = z.toJSONSchema(parameters) as Record<string, unknown>;
  return schema;
}

function validator(definition: DynamicToolDefinition): (args: unknown) => string | undefined {
  const parameters = definition.parameters;
  if (parameters instanceof z.ZodType) {
    return (args) => {
      const result = parameters.safeParse(args);
      return result.success ? undefined : describeArgumentError(definition.name, result.error.issues);
    };
  }
  const ajv = new Ajv({ allErrors: true, strict: false });
  let check: ReturnType<Ajv["compile"]>;
  try {
    check = ajv.compile(parameters);
  } catch (error) {
    throw new KilnError(
      "invalid_request",
      `tool ${definition.name}: parameters is not a valid JSON Schema: ${(error as Error).message}`,
    );
  }
  return (args) =>
    check(args)
      ? undefined
      : `invalid arguments for ${definition.name}: ${ajv.errorsText(check.errors, { dataVar: "arguments" })}`;
}
