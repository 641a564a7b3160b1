// The shape of one documented route (see route-specs.ts) and helpers to write them.
import type { z } from "zod";

/** A query or header parameter. */
export interface ParamSpec {
  name: string;
  in: "query" | "header";
  description: string;
  schema: Record<string, unknown>;
}

/** One route. */
export interface RouteSpec {
  method: "get" | "post" | "put" | "patch" | "delete";
  /** OpenAPI path (`{id}` parameters). */
  path: string;
  summary: string;
  tag: string;
  /** Needs a signed-in caller (bearer token or session cookie). */
  auth: boolean;
  body?: z.ZodType;
  params?: ParamSpec[];
  /** Status → schema (`null`: no body); `contentType` defaults to JSON. */
  responses: Record<number, { description: string; schema: z.ZodType | null; contentType?: string }>;
}

/** A 200 response. */
export const ok = (schema: z.ZodType, description = "OK") => ({ description, schema });
/** A 202 response. */
export const accepted = (schema: z.ZodType) => ({ description: "Accepted", schema });
