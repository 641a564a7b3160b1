// Builds the OpenAPI 3.1 document from route-specs.ts with zod 4's JSON Schema generator. Every
// request and response schema becomes a component (named in route-specs.ts, or after its route),
// generated together so that shared schemas are $refs. Deterministic: the same code gives
// byte-identical JSON (the drift test relies on it).
import { ErrorInfo } from "@kiln/protocol";
import { z } from "zod";
import { namedSchemas, type RouteSpec, routeSpecs } from "./route-specs.ts";

type Json = Record<string, unknown>;

const ErrorResponse = z.object({ error: ErrorInfo });

/** The API's OpenAPI document. */
export function openApiDocument(): Json {
  const registry = z.registry<{ id: string }>();
  const ids = new Map<z.ZodType, string>();
  const name = (schema: z.ZodType, fallback: string): string => {
    const known = ids.get(schema);
    if (known !== undefined) return known;
    ids.set(schema, fallback);
    registry.add(schema, { id: fallback });
    return fallback;
  };
  for (const [id, schema] of Object.entries(namedSchemas)) name(schema, id);
  name(ErrorResponse, "ErrorResponse");
  const paths: Record<string, Json> = {};
  for (const route of routeSpecs) {
    paths[route.path] ??= {};
    (paths[route.path] as Json)[route.method] = operation(route, name);
  }
  const uri = (id: string) => `#/components/schemas/${id}`;
  // Input view: request bodies keep their strictness, responses stay open to new fields.
  const { schemas } = z.toJSONSchema(registry, { uri, io: "input", unrepresentable: "any" });
  for (const schema of Object.values(schemas)) {
    delete (schema as Json).$schema;
    delete (schema as Json).$id;
  }
  const components = Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => a.localeCompare(b)));
  return {
    openapi: "3.1.0",
    info: {
      title: "Kiln API",
      version: "1",
      description:
        "Kiln's native API. Errors are `{ error: ErrorInfo }` with the status of the error's code. Generated from the zod schemas: do not edit (npm run -w @kiln/server openapi).",
    },
    servers: [{ url: "http://127.0.0.1:8787" }],
    components: {
      schemas: components,
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "A personal API token or an access token" },
        session: {
          type: "apiKey",
          in: "cookie",
          name: "kiln_session",
          description: "Browser session (unsafe methods also need the x-kiln-csrf header)",
        },
      },
    },
    paths,
  };
}

function operation(route: RouteSpec, name: (schema: z.ZodType, fallback: string) => string): Json {
  const operationId = `${route.method}${route.path
    .replace(/\{(\w+)\}/g, "By_$1")
    .replace(/[^A-Za-z0-9]+(\w)?/g, (_m, c: string | undefined) => (c ?? "").toUpperCase())}`;
  const ref = (schema: z.ZodType, fallback: string) => ({
    $ref: `#/components/schemas/${name(schema, fallback)}`,
  });
  const parameters: Json[] = [];
  for (const param of route.path.match(/\{(\w+)\}/g) ?? []) {
    parameters.push({ name: param.slice(1, -1), in: "path", required: true, schema: { type: "string" } });
  }
  for (const p of route.params ?? []) {
    parameters.push({
      name: p.name,
      in: p.in,
      required: false,
      description: p.description,
      schema: p.schema,
    });
  }
  const responses: Json = {};
  for (const [status, r] of Object.entries(route.responses)) {
    responses[status] =
      r.schema === null
        ? { description: r.description }
        : {
            description: r.description,
            content: {
              [r.contentType ?? "application/json"]: { schema: ref(r.schema, `${operationId}${status}`) },
            },
          };
  }
  responses.default = {
    description: "An error",
    content: { "application/json": { schema: ref(ErrorResponse, "") } },
  };
  return {
    operationId,
    summary: route.summary,
    tags: [route.tag],
    security: route.auth ? [{ bearer: [] }, { session: [] }] : [],
    ...(parameters.length === 0 ? {} : { parameters }),
    ...(route.body === undefined
      ? {}
      : {
          requestBody: {
            required: true,
            content: { "application/json": { schema: ref(route.body, `${operationId}Request`) } },
          },
        }),
    responses,
  };
}
