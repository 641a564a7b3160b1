import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { anthropicErrorBody } from "./anthropic-error.ts";
import { AnthropicRequest, renderAnthropicStream } from "./anthropic-stream.ts";
import { assertNever } from "./assert-never.ts";
import { ChatRequest, renderChatStream } from "./chat-stream.ts";
import { createIdAllocator, type IdAllocator } from "./id-allocator.ts";
import { toModelOutput } from "./model-output.ts";
import { openAiErrorBody } from "./openai-error.ts";
import { ResponsesRequest, renderResponsesStream } from "./responses-stream.ts";
import { parseScenario, type Scenario, type ScenarioStep } from "./scenario.ts";
import { formatSseFrame, type RenderedStream } from "./sse-frame.ts";
import { createStepQueue, type StepQueue } from "./step-queue.ts";
import { computeUsage } from "./usage.ts";

/**
 * A fake OpenAI-compatible model server on loopback HTTP, so tests run the real model client.
 * For each request: read and record the body → route (`/v1/responses`, `/v1/chat/completions`,
 * `/v1/messages` (Anthropic), `/v1/models`) → validate → take the next matching scenario step → answer with its fault, or render the
 * step as that wire's SSE stream and send it chunk by chunk (optionally slowly, optionally cut short).
 */

/** One request the server received, as it arrived. */
export interface RecordedRequest {
  /** URL path without the query, e.g. `/v1/responses`. */
  path: string;
  /** HTTP method. */
  method: string;
  /** Request headers, lower-case names; repeated headers joined with `, `. */
  headers: Record<string, string>;
  /** The parsed JSON body; the raw text if it is not JSON; `null` if empty. */
  body: unknown;
  /** When it arrived (Unix ms). */
  at: number;
  /** Index of the scenario step that served it; `null` if none did (bad request, exhausted, other path). */
  stepIndex: number | null;
}

/** A running fake model server. */
export interface FakeModelServer {
  /** The base URL to give a client, e.g. `http://127.0.0.1:PORT/v1`. The Anthropic SDK appends
   *  `/v1/messages` itself, so give it this URL without the trailing `/v1`. */
  readonly url: string;
  /** Every request received since the scenario was set, in arrival order. */
  readonly requests: RecordedRequest[];
  /** Replaces the scenario and starts it over; clears `requests` (in place). Ids keep counting. */
  setScenario(s: Scenario): void;
  /** Servings left in the scenario (a step with `repeat: n` counts n times). */
  remainingSteps(): number;
  /** Stops listening, cuts open streams and connections; calling it again returns the same promise. */
  close(): Promise<void>;
}

/** Where and what the server serves. */
export interface FakeModelServerOptions {
  /** The script to follow. */
  scenario: Scenario;
  /** Port to listen on (default 0: any free port). */
  port?: number;
  /** Interface to listen on (default `127.0.0.1`). */
  host?: string;
  /** Called with each request as it is recorded (before it is answered), e.g. to log it. */
  onRequest?: (request: RecordedRequest) => void;
}

/** Starts a fake model server and resolves once it listens. */
export async function startFakeModelServer(options: FakeModelServerOptions): Promise<FakeModelServer> {
  const host = options.host ?? "127.0.0.1";
  const ids = createIdAllocator();
  const requests: RecordedRequest[] = [];
  const shutdown = new AbortController();
  let queue = createStepQueue(parseScenario(options.scenario));

  const server = createServer((req, res) => {
    const ctx = { ids, requests, queue, signal: shutdown.signal, onRequest: options.onRequest };
    handle(req, res, ctx).catch((error: unknown) => reportBug(res, error));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  // Closing twice (a test and its afterEach) is fine: both wait for the same shutdown.
  let closing: Promise<void> | undefined;

  return {
    url: `http://${urlHost}:${port}/v1`,
    requests,
    setScenario(s) {
      queue = createStepQueue(parseScenario(s));
      requests.length = 0;
    },
    remainingSteps: () => queue.remaining(),
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        shutdown.abort();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

interface HandlerContext {
  ids: IdAllocator;
  requests: RecordedRequest[];
  queue: StepQueue;
  signal: AbortSignal;
  onRequest: ((request: RecordedRequest) => void) | undefined;
}

async function handle(req: IncomingMessage, res: ServerResponse, ctx: HandlerContext): Promise<void> {
  const raw = await readBody(req);
  const path = new URL(req.url ?? "/", "http://localhost").pathname.replace(/\/+$/, "");
  const record: RecordedRequest = {
    path,
    method: req.method ?? "GET",
    headers: flattenHeaders(req),
    body: parseBody(raw),
    at: Date.now(),
    stepIndex: null,
  };
  ctx.requests.push(record);
  ctx.onRequest?.(record);

  const route = `${record.method} ${path}`;
  switch (route) {
    case "GET /v1/models":
      return sendJson(res, 200, {
        object: "list",
        data: ["gpt-5.5", "gpt-5.5-mini"].map((id) => ({
          id,
          object: "model",
          created: 0,
          owned_by: "kiln-fake",
        })),
      });
    case "POST /v1/responses": {
      const parsed = ResponsesRequest.safeParse(record.body);
      if (!parsed.success) return sendBadRequest(res, "/v1/responses", parsed.error.issues);
      return serveStep(res, ctx, record, raw, (step, ending) => {
        const outputs = (step.output ?? []).map(toModelOutput);
        const usage = computeUsage(step.usage, raw, outputs);
        return renderResponsesStream({ request: parsed.data, outputs, usage, ids: ctx.ids, ending });
      });
    }
    case "POST /v1/chat/completions": {
      const parsed = ChatRequest.safeParse(record.body);
      if (!parsed.success) return sendBadRequest(res, "/v1/chat/completions", parsed.error.issues);
      return serveStep(res, ctx, record, raw, (step, ending) => {
        const outputs = (step.output ?? []).map(toModelOutput);
        const usage = computeUsage(step.usage, raw, outputs);
        return renderChatStream({ request: parsed.data, outputs, usage, ids: ctx.ids, ending });
      });
    }
    case "POST /v1/messages": {
      const parsed = AnthropicRequest.safeParse(record.body);
      if (!parsed.success) {
        return sendBadRequest(res, "/v1/messages", parsed.error.issues, anthropicErrorBody);
      }
      const step = (s: ScenarioStep, ending: Ending) => {
        const outputs = (s.output ?? []).map(toModelOutput);
        const usage = computeUsage(s.usage, raw, outputs);
        return renderAnthropicStream({ request: parsed.data, outputs, usage, ids: ctx.ids, ending });
      };
      return serveStep(res, ctx, record, raw, step, anthropicErrorBody);
    }
    default:
      return sendJson(
        res,
        404,
        openAiErrorBody(404, `fake model server: no route for ${route}`, "unknown_url"),
      );
  }
}

type Ending = { type: "completed" } | { type: "failed"; message: string };

/** Builds a wire's error body for a status (and optional message). */
type ErrorBody = (status: number, message?: string) => unknown;

async function serveStep(
  res: ServerResponse,
  ctx: HandlerContext,
  record: RecordedRequest,
  raw: string,
  render: (step: ScenarioStep, ending: Ending) => RenderedStream,
  errorBody: ErrorBody = openAiErrorBody,
): Promise<void> {
  // Match `when` against the body as sent and as re-serialized, so escaping differences don't matter.
  const pick = ctx.queue.take(`${raw}\n${JSON.stringify(record.body)}`);
  switch (pick.type) {
    case "exhausted":
      return sendJson(
        res,
        500,
        errorBody(500, `fake model server: scenario exhausted (${pick.served} requests served)`),
      );
    case "unmatched":
      return sendJson(
        res,
        500,
        errorBody(
          500,
          `fake model server: no scenario step matches this request (${pick.served} requests served, ` +
            `${pick.remaining} servings left, each with a \`when.bodyIncludes\` this body does not contain)`,
        ),
      );
    case "step":
      break;
    default:
      return assertNever(pick);
  }

  record.stepIndex = pick.index;
  const { step } = pick;
  const fault = step.fault;
  if (fault?.type === "http") {
    const headers: Record<string, string> = {};
    if (fault.retryAfter !== undefined) headers["retry-after"] = String(fault.retryAfter);
    if (fault.retryAfterMs !== undefined) headers["retry-after-ms"] = String(fault.retryAfterMs);
    return sendJson(res, fault.status, fault.body ?? errorBody(fault.status), headers);
  }

  const ending: Ending =
    fault?.type === "response_failed"
      ? { type: "failed", message: fault.message ?? "The model failed to generate a response." }
      : { type: "completed" };
  const stream = render(step, ending);
  const cutAfter =
    fault?.type === "disconnect"
      ? (fault.afterEvents ?? stream.defaultDisconnectAfter)
      : Number.POSITIVE_INFINITY;

  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    connection: "keep-alive",
    "x-request-id": ctx.ids.next("req_fake_"),
  });
  res.flushHeaders();

  const delayMs = step.chunkDelayMs ?? 0;
  for (const [i, frame] of stream.frames.entries()) {
    if (i >= cutAfter) break;
    if (delayMs > 0) {
      const slept = await sleep(delayMs, undefined, { signal: ctx.signal }).then(
        () => true,
        () => false,
      );
      if (!slept) return void res.destroy();
    }
    if (res.destroyed) return;
    await write(res, formatSseFrame(frame));
  }
  if (cutAfter < Number.POSITIVE_INFINITY) {
    // Drop the connection mid-body: the client sees a truncated chunked stream, like a dropped link.
    res.socket?.destroy();
    return;
  }
  res.end();
}

/** Process boundary: a bug in the fake server goes to the client as a 500, not a crashed test process. */
function reportBug(res: ServerResponse, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  if (res.headersSent) return void res.destroy();
  sendJson(res, 500, openAiErrorBody(500, `fake model server bug: ${message}`));
}

function sendBadRequest(
  res: ServerResponse,
  path: string,
  issues: readonly { path: PropertyKey[]; message: string }[],
  errorBody: ErrorBody = openAiErrorBody,
) {
  const details = issues.map((i) => `${i.path.map(String).join(".") || "(body)"}: ${i.message}`).join("; ");
  return sendJson(res, 400, errorBody(400, `fake model server: invalid ${path} request: ${details}`));
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

/** Resolves once the chunk is handed to the OS (so a following disconnect cannot swallow it), or once
 *  the client has gone. */
function write(res: ServerResponse, chunk: string): Promise<void> {
  return new Promise((resolve) => {
    res.once("close", resolve);
    res.write(chunk, () => {
      res.off("close", resolve);
      resolve();
    });
  });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function parseBody(raw: string): unknown {
  if (raw === "") return null;
  try {
    return JSON.parse(raw);
  } catch {
    // Not JSON: keep the text so the test can see what was sent.
    return raw;
  }
}

function flattenHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
}
