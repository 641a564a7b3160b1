// The hostile requests of hostile-input.test.ts for one route of the OpenAPI document, how one is
// sent (node:http, so that paths go out as written and even a GET can carry a body) and how its
// answer is judged: never a 5xx; where the request is wrong for the route, a 4xx with
// `{ error: ErrorInfo }`, no stack trace and no echo of the input.
import { type Agent, request } from "node:http";
import { ErrorInfo } from "@kiln/protocol";
import { z } from "zod";
import { type ApiOperation, fillPath } from "./openapi-routes.ts";

const ErrorBody = z.strictObject({ error: ErrorInfo });

/** One hostile request. */
export interface Hostile {
  what: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Send the body chunked (no content-length). */
  chunked?: boolean;
  /** The request is wrong for this route: it must be a 4xx with `{ error }` (else: anything but a 5xx). */
  wrong: boolean;
}

/** What the server answered. */
export interface Answer {
  status: number;
  contentType: string;
  text: string;
}

/** Valid values of the path parameters (objects of the caller's, or ids that merely parse). */
export interface PathValues {
  threadId: string;
  aliceId: string;
  secretName: string;
  envId: string;
  taskId: string;
  attemptId: string;
  sandboxId: string;
  turnId: string;
  /** The thread of `attemptId`. */
  attemptThreadId: string;
  /** The forge repository of `envId`. */
  forge: { provider: string; owner: string; repo: string };
}

const HUGE = 120_000;
const TWO_MIB = 2 * 1024 * 1024;

/** The `{id}` a route's path takes, by the collection it names. */
function idFor(path: string, v: PathValues): string {
  if (path.startsWith("/api/v1/users")) return v.aliceId;
  if (path.startsWith("/api/v1/tokens")) return "tok_doesnotexist";
  if (path.startsWith("/api/v1/approvals")) return "apr_01JAAAAAAAAAAAAAAAAAAAAAAA";
  if (path.includes("/environments/")) return v.envId;
  if (path.includes("/tasks/")) return v.taskId;
  if (/\/sandbox(es)?\//.test(path)) return v.sandboxId;
  return v.threadId;
}

/**
 * WHAM routes whose body may be left out and whose every field may be null (`attempt_placement` of
 * `…/environment` is nullish): an empty body, or nulls, are a request like any other.
 */
const OPTIONAL_NULLABLE_BODY = /^\/(backend-api\/wham|api\/codex)\/tasks\/\{id\}\/environment$/;

/**
 * The bodies sent to a route that takes none: it never reads them, so a few of each kind (unparsable,
 * polluting, large) show that a body is ignored rather than the whole list.
 */
const UNREAD_BODIES = [
  "malformed JSON",
  "invalid UTF-8",
  "deeply nested arrays",
  "prototype-polluting fields",
  "a 2 MiB body",
  "a 2 MiB chunked body",
];

/** `{provider}/{owner}/{repo}` are looked up, not ids: an unknown value is an empty answer, not an error. */
const LOOKUP_PARAMS = ["provider", "owner", "repo"];

/** The hostile requests for one operation. */
export function hostileRequests(op: ApiOperation, v: PathValues): Hostile[] {
  const values: Record<string, string> = {
    id: idFor(op.path, v),
    name: v.secretName,
    attempt: v.attemptId,
    turnId: v.turnId,
    ...v.forge,
  };
  // A file write needs its ?path= (else every body is refused for want of it, unread).
  const query = op.key.endsWith("/files") && op.method === "PUT" ? "?path=hostile.txt" : "";
  const valid = `${fillPath(op.path, values)}${query}`;
  const readsBody = op.bodyFields !== undefined;
  // A file write takes raw bytes as well as JSON: a body that is not JSON is a file's content.
  const rawBody = query !== "";
  const optional = OPTIONAL_NULLABLE_BODY.test(op.path);
  const fields = op.bodyFields ?? [];
  const json = { "content-type": "application/json" };
  const each = (value: unknown) => JSON.stringify(Object.fromEntries(fields.map((f) => [f, value])));
  const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
  const list: Hostile[] = [];
  const body = (
    what: string,
    text: string | Buffer,
    headers: Record<string, string> = json,
    wrong = readsBody,
  ) => list.push({ what, path: valid, headers, body: text, wrong });

  body("malformed JSON", '{"input": "x",');
  body("not JSON at all", "input=x&title=y");
  // Its bad bytes are in a field name (decoded as U+FFFD): an unknown field, which WHAM ignores.
  body(
    "invalid UTF-8",
    Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
    json,
    readsBody && !op.lenient,
  );
  body("an empty body", "", json, readsBody && !optional);
  body("a JSON array", "[]");
  body("a JSON array of objects", JSON.stringify([{ input: "x", title: "y" }]));
  body("JSON null", "null");
  body("a JSON string", '"hello"');
  body("a JSON number", "42");
  body("deeply nested arrays", deep);
  body("huge strings in every field", each("x".repeat(HUGE)));
  // The WHAM API ignores fields it does not know (spec/wham-api.md); the native API names them.
  body("a huge unknown field", JSON.stringify({ unknown: "x".repeat(HUGE) }), json, readsBody && !op.lenient);
  body(
    "prototype-polluting fields",
    '{"__proto__": {"polluted": true, "isAdmin": true}, "constructor": {"prototype": {"polluted": true}}}',
    json,
    readsBody && !op.lenient,
  );
  body("an unknown field", JSON.stringify({ colour: "red" }), json, readsBody && !op.lenient);
  body("a NUL inside every string field", each("a\u0000b"), json, false);
  body("a lone surrogate in every string field", each("a\ud800b"), json, false);
  body("numbers in every field", each(12345));
  body("booleans in every field", each(true));
  body("null in every field", each(null), json, readsBody && !optional);
  body("objects in every field", each({ $ne: null, $gt: "" }));
  body("arrays in every field", each([1, "two", null]));
  body(
    "deeply nested values in every field",
    `{${fields.map((f) => `"${f}": ${deep.slice(0, 20_000)}${deep.slice(-20_000)}`).join(",")}}`,
  );
  body("a JSON body sent as text/plain", "{}", { "content-type": "text/plain" }, readsBody && !rawBody);
  body(
    "a JSON body sent as a form",
    "{}",
    { "content-type": "application/x-www-form-urlencoded" },
    readsBody && !rawBody,
  );
  list.push({
    what: "a 2 MiB body",
    path: valid,
    headers: json,
    body: JSON.stringify({ input: "x".repeat(TWO_MIB) }),
    wrong: readsBody,
  });
  list.push({
    what: "a 2 MiB chunked body",
    path: valid,
    headers: json,
    body: JSON.stringify({ input: "x".repeat(TWO_MIB) }),
    chunked: true,
    wrong: readsBody,
  });
  if (op.path.includes("/turns")) {
    body(
      "a deeply nested outputSchema",
      `{"input": "x", "outputSchema": {"a": ${deep.slice(0, 100_000)}${deep.slice(-100_000)}}}`,
    );
  }

  if (!readsBody) list.splice(0, list.length, ...list.filter((h) => UNREAD_BODIES.includes(h.what)));

  // Each parameter in turn takes the hostile value, the others stay valid.
  const emptyBody = readsBody ? { headers: json, body: "{}" } : {};
  for (const param of op.params) {
    for (const [what, id] of [
      ["an encoded ../etc/passwd id", "..%2F..%2F..%2Fetc%2Fpasswd"],
      ["a raw ../etc/passwd id", "../../../etc/passwd"],
      ["a %00 id", "%00"],
      ["an id with %00 inside", "thr_01JAAAAAAAAAAAAAAAAAAAAAAA%00"],
      ["a %2e%2e id", "%2e%2e"],
      ["an 8 000-character id", `thr_${"A".repeat(8000)}`],
      ["an invalid UTF-8 id", "%C3%28%FF"],
      ["a right-to-left override id", "%E2%80%AEthr_x"],
      ["an SQL injection id", "'%20OR%20'1'%3D'1'--"],
      ["a NUL-and-newline id", "%00%0D%0Aset-cookie:%20x=y"],
    ] as const) {
      const path = `${fillPath(op.path, { ...encodedValues(values), [param]: id }, true)}${query}`;
      // Dot segments are resolved (RFC 3986) before routing: they may name another route, which is fine.
      const dotted = /^(\.\.\/|%2e%2e)/i.test(id);
      const wrong = !dotted && !(LOOKUP_PARAMS.includes(param) && id.length < 200);
      const named = op.params.length > 1 ? `${what} as {${param}}` : what;
      list.push({ what: named, path, ...emptyBody, wrong });
    }
  }

  // A query string is part of the GET routes' interface (the others ignore it).
  if (op.method !== "GET") return list;
  const documented = op.queryParams;
  list.push({
    what: "a query with __proto__ and unknown parameters",
    path: `${valid}?__proto__=x&constructor=y&unknown=z`,
    wrong: documented.length > 0 && !op.lenient,
  });
  list.push({
    what: "a repeated query parameter",
    path: `${valid}?after=1&after=2&limit=1&limit=2`,
    wrong: false,
  });
  for (const name of documented) {
    for (const [what, value, wrong] of [
      ["huge", "9".repeat(10_000), true],
      ["a %00", "%00", false],
      ["a non-number", "abc", false],
      ["a negative", "-1", false],
      ["an overflowing", "1e400", false],
    ] as const) {
      list.push({ what: `${what} ${name}`, path: `${valid}?${name}=${value}`, wrong });
    }
  }
  if (op.path.endsWith("/events")) {
    for (const value of ["abc", "-1", "1e400", "9".repeat(5000)]) {
      list.push({
        what: `Last-Event-ID ${value.slice(0, 10)}`,
        path: valid,
        headers: { "last-event-id": value },
        wrong: true,
      });
    }
  }
  return list;
}

const encodedValues = (values: Record<string, string>) =>
  Object.fromEntries(Object.entries(values).map(([k, v]) => [k, encodeURIComponent(v)]));

/** What is wrong with `answer`, if anything. */
export function judge(hostile: Hostile, answer: Answer): string | undefined {
  if (answer.status === 0) return `no answer (${answer.text})`;
  if (answer.status >= 500) return `${answer.status} ${answer.text.slice(0, 300)}`;
  if (!hostile.wrong && answer.status < 400) return undefined;
  if (answer.text.length > 20_000) return `a ${answer.text.length}-character error (echoes the input?)`;
  if (hostile.wrong && answer.status < 400) {
    return `${answer.status} instead of a 4xx: ${answer.text.slice(0, 200)}`;
  }
  if (!answer.contentType.startsWith("application/json")) {
    return `${answer.status} as ${answer.contentType || "no content type"}: ${answer.text.slice(0, 200)}`;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.text);
  } catch {
    return `${answer.status} with a body that is not JSON: ${answer.text.slice(0, 200)}`;
  }
  const checked = ErrorBody.safeParse(parsed);
  if (!checked.success) return `${answer.status} without { error: ErrorInfo }: ${answer.text.slice(0, 200)}`;
  if (/\n\s+at |\.ts:\d+/.test(checked.data.error.message))
    return `a stack trace: ${checked.data.error.message}`;
  return undefined;
}

/**
 * Sends one request; an SSE answer is cut after its head. A small one goes over `agent`'s kept-alive
 * connections; a large one on a connection of its own (the server may answer it early and close).
 */
export function send(
  base: string,
  method: string,
  hostile: Hostile,
  token: string,
  agent: Agent | false = false,
): Promise<Answer> {
  const url = new URL(base);
  const headers: Record<string, string | number> = { authorization: `Bearer ${token}`, ...hostile.headers };
  // Explicit framing: node:http would send a GET's or DELETE's body unframed, which no server can read.
  if (hostile.body !== undefined) {
    if (hostile.chunked) headers["transfer-encoding"] = "chunked";
    else headers["content-length"] = Buffer.byteLength(hostile.body);
  }
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path: hostile.path,
        headers,
        agent: (hostile.body?.length ?? 0) > 64 * 1024 ? false : agent,
      },
      (res) => {
        answered = true;
        const contentType = String(res.headers["content-type"] ?? "");
        if (contentType.startsWith("text/event-stream")) {
          resolve({ status: res.statusCode ?? 0, contentType, text: "" });
          req.destroy();
          return;
        }
        const chunks: Buffer[] = [];
        res.on("data", (d: Buffer) => chunks.push(d));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, contentType, text: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", reject);
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error("timed out")));
    // The server may answer (413) and close before it has read a large body: that is an answer.
    req.on("error", (error) => {
      if (!answered) reject(error);
    });
    if (hostile.body !== undefined) req.write(hostile.body);
    req.end();
  });
}
