// The routes of the committed OpenAPI document (packages/server/openapi.json), for the tests that
// must cover every route: a route added to the document without a case there fails those tests.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** One operation of the document. */
export interface ApiOperation {
  /** Upper case: `GET`, `POST` … */
  method: string;
  /** As documented, with `{param}` placeholders. */
  path: string;
  /** `METHOD path`. */
  key: string;
  /** The `{param}` names of the path, in order. */
  params: string[];
  /** Whether the document marks it public (`security: []`). */
  public: boolean;
  /** The top-level fields of its JSON request body (every branch of a union), if it takes one. */
  bodyFields: string[] | undefined;
  /** Its documented query parameters. */
  queryParams: string[];
  /** A WebSocket route (documented with a 101 answer): its callers upgrade. */
  webSocket: boolean;
  /** A WHAM route (tag `wham`): unknown request fields and query parameters are ignored, by its spec. */
  lenient: boolean;
  /** A sandbox route (`…/sandboxes/{id}…`, `…/sandbox/{id}…`): the sandbox's capability tokens open it. */
  sandbox: boolean;
}

/** The routes that answer without a credential, named here so that a change to the list is seen. */
export const PUBLIC_ROUTES: readonly string[] = [
  "GET /healthz",
  "GET /readyz",
  "GET /metrics",
  "GET /api/v1/openapi.json",
  "POST /api/v1/auth/login",
  "POST /api/v1/auth/token",
  "POST /api/v1/auth/refresh",
  "POST /api/v1/auth/setup",
];

type Schema = { $ref?: string; properties?: Record<string, unknown>; anyOf?: Schema[] };
type Operation = {
  security?: unknown[];
  tags?: string[];
  responses?: Record<string, unknown>;
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  parameters?: { name: string; in: string }[];
};
type Document = {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
};

/** Every operation of the committed document, in its order. */
export function openApiOperations(): ApiOperation[] {
  const file = fileURLToPath(new URL("../openapi.json", import.meta.url));
  const doc = JSON.parse(readFileSync(file, "utf8")) as Document;
  const resolve = (s: Schema): Schema =>
    s.$ref === undefined
      ? s
      : resolve(doc.components.schemas[s.$ref.replace("#/components/schemas/", "")] ?? {});
  const fieldsOf = (s: Schema): string[] => {
    const r = resolve(s);
    return [...Object.keys(r.properties ?? {}), ...(r.anyOf ?? []).flatMap(fieldsOf)];
  };
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => {
      const body = operation.requestBody?.content?.["application/json"]?.schema;
      return {
        method: method.toUpperCase(),
        path,
        key: `${method.toUpperCase()} ${path}`,
        params: [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? ""),
        public: Array.isArray(operation.security) && operation.security.length === 0,
        bodyFields: body === undefined ? undefined : [...new Set(fieldsOf(body))],
        queryParams: (operation.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name),
        webSocket: operation.responses?.["101"] !== undefined,
        lenient: operation.tags?.includes("wham") === true,
        sandbox: /\/sandbox(es)?\/\{id\}/.test(path),
      };
    }),
  );
}

/** `path` with each `{param}` replaced by `values[param]` (URL-encoded unless `raw`). */
export function fillPath(path: string, values: Record<string, string>, raw = false): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no value for {${name}} in ${path}`);
    return raw ? value : encodeURIComponent(value);
  });
}
