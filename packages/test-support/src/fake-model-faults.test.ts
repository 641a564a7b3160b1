import OpenAI from "openai";
import type { ResponseStreamEvent } from "openai/resources/responses/responses";
import { afterEach, describe, expect, it } from "vitest";
import { type FakeModelServer, startFakeModelServer } from "./fake-model-server.ts";
import type { Scenario } from "./scenario.ts";

const servers: FakeModelServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(scenario: Scenario): Promise<{ server: FakeModelServer; client: OpenAI }> {
  const server = await startFakeModelServer({ scenario });
  servers.push(server);
  return { server, client: new OpenAI({ baseURL: server.url, apiKey: "test", maxRetries: 0 }) };
}

/** Iterates a Responses stream, keeping the events seen before any error. */
async function streamResponses(client: OpenAI): Promise<{ events: ResponseStreamEvent[]; error: unknown }> {
  const events: ResponseStreamEvent[] = [];
  try {
    const stream = await client.responses.create({ model: "gpt-5.5", input: [], stream: true });
    for await (const event of stream) events.push(event);
    return { events, error: null };
  } catch (error) {
    return { events, error };
  }
}

const twoItems = [
  { type: "message", text: "First I will list the files." },
  { type: "exec_command", cmd: "ls" },
] as const;

describe("a disconnect fault", () => {
  it("cuts the stream after the first item, so the SDK throws before response.completed", async () => {
    const { client, server } = await start({
      steps: [{ output: [...twoItems], fault: { type: "disconnect" } }],
    });
    const { events, error } = await streamResponses(client);

    expect(events.map((e) => e.type)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
    ]);
    // undici reports a chunked body that ends without its terminator as `TypeError: terminated`.
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe("terminated");
    expect(server.requests[0]?.stepIndex).toBe(0);
  });

  it("cuts after exactly afterEvents events, and the next step is served normally", async () => {
    const { client } = await start({
      steps: [
        { output: [...twoItems], fault: { type: "disconnect", afterEvents: 1 } },
        { output: [...twoItems] },
      ],
    });
    const cut = await streamResponses(client);
    const retried = await streamResponses(client);

    expect(cut.events.map((e) => e.type)).toEqual(["response.created"]);
    expect(cut.error).toBeInstanceOf(Error);
    expect(retried.error).toBeNull();
    expect(retried.events.at(-1)?.type).toBe("response.completed");
  });

  it("cuts a chat stream before [DONE], so the SDK throws", async () => {
    const { client } = await start({ steps: [{ output: [...twoItems], fault: { type: "disconnect" } }] });
    let content = "";
    const error = await (async () => {
      const stream = await client.chat.completions.create({ model: "gpt-5.5", messages: [], stream: true });
      for await (const chunk of stream) content += chunk.choices[0]?.delta.content ?? "";
    })().catch((e: unknown) => e);

    expect(content).toBe("First I will list the files.");
    expect((error as Error).message).toBe("terminated");
  });
});

describe("an http fault", () => {
  it("answers 429 with retry-after headers visible on the SDK's APIError", async () => {
    const { client, server } = await start({
      steps: [{ fault: { type: "http", status: 429, retryAfter: 2, retryAfterMs: 1500 } }],
    });
    const { error } = await streamResponses(client);

    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    const apiError = error as InstanceType<typeof OpenAI.RateLimitError>;
    expect(apiError.status).toBe(429);
    expect(apiError.headers.get("retry-after")).toBe("2");
    expect(apiError.headers.get("retry-after-ms")).toBe("1500");
    expect(apiError.error).toEqual({
      message: "Rate limit reached for requests. Please try again later.",
      type: "requests",
      param: null,
      code: "rate_limit_exceeded",
    });
    expect(server.requests).toHaveLength(1);
  });

  it("answers 500 as an InternalServerError, repeating as often as asked", async () => {
    const { client, server } = await start({
      steps: [
        { fault: { type: "http", status: 500 }, repeat: 2 },
        { output: [{ type: "message", text: "ok" }] },
      ],
    });
    const first = await streamResponses(client);
    const second = await streamResponses(client);
    const third = await streamResponses(client);

    expect(first.error).toBeInstanceOf(OpenAI.InternalServerError);
    expect(second.error).toBeInstanceOf(OpenAI.InternalServerError);
    expect(third.error).toBeNull();
    expect(server.requests.map((r) => r.stepIndex)).toEqual([0, 0, 1]);
  });

  it("sends a custom body as given", async () => {
    const body = {
      error: { message: "context too long", type: "invalid_request_error", code: "context_length_exceeded" },
    };
    const { client } = await start({ steps: [{ fault: { type: "http", status: 400, body } }] });
    const { error } = await streamResponses(client);

    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).code).toBe("context_length_exceeded");
  });
});

describe("a response_failed fault", () => {
  it("streams response.failed with the message instead of response.completed", async () => {
    const { client } = await start({
      steps: [
        {
          output: [{ type: "message", text: "partial" }],
          fault: { type: "response_failed", message: "boom" },
        },
      ],
    });
    const { events, error } = await streamResponses(client);
    const last = events.at(-1);

    expect(error).toBeNull();
    expect(events.map((e) => e.type)).not.toContain("response.completed");
    if (last?.type !== "response.failed") throw new Error(`last event was ${last?.type}`);
    expect(last.response).toMatchObject({
      status: "failed",
      error: { code: "server_error", message: "boom" },
      output: [{ type: "message", id: "msg_1" }],
    });
  });

  it("ends a chat stream with an error chunk the SDK throws as an APIError", async () => {
    const { client } = await start({ steps: [{ fault: { type: "response_failed", message: "boom" } }] });
    const error = await (async () => {
      const stream = await client.chat.completions.create({ model: "gpt-5.5", messages: [], stream: true });
      for await (const _ of stream) {
        // drain
      }
    })().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as Error).message).toContain("boom");
  });
});

describe("chunkDelayMs", () => {
  it("delays every SSE chunk, so a slow stream takes at least events × delay", async () => {
    const delay = 20;
    const { client } = await start({
      steps: [{ output: [{ type: "message", text: "slow" }], chunkDelayMs: delay }],
    });
    const began = performance.now();
    const { events, error } = await streamResponses(client);
    const elapsed = performance.now() - began;

    expect(error).toBeNull();
    // created, in_progress, item added, part added, 2 deltas ("sl", "ow"), text done, part done, item done, completed
    expect(events).toHaveLength(10);
    expect(elapsed).toBeGreaterThanOrEqual(events.length * delay);
  });

  it("stops a slow stream when the server closes", async () => {
    const { client, server } = await start({
      steps: [{ output: [{ type: "message", text: "never finished" }], chunkDelayMs: 10_000 }],
    });
    const pending = streamResponses(client);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await server.close();
    const { events, error } = await pending;

    expect(events).toEqual([]);
    expect(error).toBeInstanceOf(Error);
  });
});
