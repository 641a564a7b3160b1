// The fake server's Anthropic Messages endpoint, read as raw SSE (the client side is tested with the real
// SDK in core's anthropic-client tests).
import { afterEach, describe, expect, it } from "vitest";
import { type FakeModelServer, startFakeModelServer } from "./fake-model-server.ts";
import type { Scenario } from "./scenario.ts";

const servers: FakeModelServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(scenario: Scenario): Promise<FakeModelServer> {
  const server = await startFakeModelServer({ scenario });
  servers.push(server);
  return server;
}

const validBody = { model: "claude-sonnet-4-6", max_tokens: 1024, stream: true, messages: [] };

function post(server: FakeModelServer, body: unknown): Promise<Response> {
  return fetch(`${server.url}/messages`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** The SSE frames of a response as `{event, data}`, data parsed. */
async function frames(response: Response): Promise<{ event: string; data: Record<string, unknown> }[]> {
  const text = await response.text();
  return text
    .split("\n\n")
    .filter((chunk) => chunk !== "")
    .map((chunk) => {
      const [eventLine, dataLine] = chunk.split("\n");
      return {
        event: (eventLine ?? "").replace(/^event: /, ""),
        data: JSON.parse((dataLine ?? "").replace(/^data: /, "")) as Record<string, unknown>,
      };
    });
}

describe("POST /v1/messages", () => {
  it("streams text, thinking and tool use as Anthropic does, event for event", async () => {
    const server = await start({
      steps: [
        {
          output: [
            { type: "reasoning", summary: "Hmm." },
            { type: "message", text: "Listing." },
            { type: "exec_command", cmd: "ls" },
          ],
          usage: { input_tokens: 100, cached_tokens: 40, output_tokens: 9 },
        },
      ],
    });
    const response = await post(server, validBody);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const sse = await frames(response);

    expect(sse.every((f) => f.event === f.data.type)).toBe(true);
    expect(sse.map((f) => f.data)).toEqual([
      {
        type: "message_start",
        message: {
          id: "msg_1",
          type: "message",
          role: "assistant",
          model: "claude-sonnet-4-6",
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: {
            input_tokens: 60,
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: 40,
            output_tokens: 1,
            service_tier: "standard",
          },
        },
      },
      {
        type: "content_block_start",
        index: 0,
        content_block: { type: "thinking", thinking: "", signature: "" },
      },
      { type: "ping" },
      { type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "Hm" } },
      { type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "m." } },
      {
        type: "content_block_delta",
        index: 0,
        delta: { type: "signature_delta", signature: expect.stringMatching(/^EqQB/) },
      },
      { type: "content_block_stop", index: 0 },
      { type: "content_block_start", index: 1, content_block: { type: "text", text: "" } },
      { type: "content_block_delta", index: 1, delta: { type: "text_delta", text: "Lis" } },
      { type: "content_block_delta", index: 1, delta: { type: "text_delta", text: "tin" } },
      { type: "content_block_delta", index: 1, delta: { type: "text_delta", text: "g." } },
      { type: "content_block_stop", index: 1 },
      {
        type: "content_block_start",
        index: 2,
        content_block: { type: "tool_use", id: "toolu_1", name: "exec_command", input: {} },
      },
      { type: "content_block_delta", index: 2, delta: { type: "input_json_delta", partial_json: "" } },
      { type: "content_block_delta", index: 2, delta: { type: "input_json_delta", partial_json: '{"cm' } },
      { type: "content_block_delta", index: 2, delta: { type: "input_json_delta", partial_json: 'd":"' } },
      { type: "content_block_delta", index: 2, delta: { type: "input_json_delta", partial_json: 'ls"}' } },
      { type: "content_block_stop", index: 2 },
      {
        type: "message_delta",
        delta: { stop_reason: "tool_use", stop_sequence: null },
        usage: { output_tokens: 9 },
      },
      { type: "message_stop" },
    ]);
    expect(server.requests[0]).toMatchObject({ path: "/v1/messages", body: validBody, stepIndex: 0 });
  });

  it("sends apply_patch as a tool_use with {input: patch}", async () => {
    const server = await start({ steps: [{ output: [{ type: "apply_patch", patch: "*** Begin Patch" }] }] });
    const sse = await frames(await post(server, validBody));
    const json = sse
      .flatMap((f) =>
        f.data.type === "content_block_delta" ? [f.data.delta as { partial_json: string }] : [],
      )
      .map((d) => d.partial_json)
      .join("");
    expect(sse[1]?.data.content_block).toEqual({
      type: "tool_use",
      id: "toolu_1",
      name: "apply_patch",
      input: {},
    });
    expect(JSON.parse(json)).toEqual({ input: "*** Begin Patch" });
  });

  it("stops with max_tokens when the step's output exceeds the request's max_tokens", async () => {
    const server = await start({
      steps: [{ output: [{ type: "message", text: "x" }], usage: { input_tokens: 1, output_tokens: 5000 } }],
    });
    const sse = await frames(await post(server, validBody));
    expect(sse.at(-2)?.data).toEqual({
      type: "message_delta",
      delta: { stop_reason: "max_tokens", stop_sequence: null },
      usage: { output_tokens: 1024 },
    });
  });

  it("ends a response_failed step with an overloaded_error event instead of message_stop", async () => {
    const server = await start({
      steps: [
        {
          output: [{ type: "message", text: "Hi" }],
          fault: { type: "response_failed", message: "Overloaded" },
        },
      ],
    });
    const sse = await frames(await post(server, validBody));
    expect(sse.at(-1)).toEqual({
      event: "error",
      data: { type: "error", error: { type: "overloaded_error", message: "Overloaded" } },
    });
    expect(sse.some((f) => f.event === "message_stop")).toBe(false);
  });

  it("answers an http fault with Anthropic's error body and the retry-after header", async () => {
    const server = await start({ steps: [{ fault: { type: "http", status: 429, retryAfter: 2 } }] });
    const response = await post(server, validBody);
    expect(response.status).toBe(429);
    expect(response.headers.get("retry-after")).toBe("2");
    expect(await response.json()).toEqual({
      type: "error",
      error: {
        type: "rate_limit_error",
        message: "This request would exceed the rate limit for your organization. Please try again later.",
      },
      request_id: null,
    });
  });

  it("cuts the stream after the first content block on a disconnect fault", async () => {
    const server = await start({
      steps: [
        {
          output: [
            { type: "message", text: "One" },
            { type: "message", text: "Two" },
          ],
          fault: { type: "disconnect" },
        },
      ],
    });
    const response = await post(server, validBody);
    await expect(response.text()).rejects.toThrow("terminated");
  });

  it("rejects a request without max_tokens or stream in Anthropic's error shape, naming the field", async () => {
    const server = await start({ steps: [{ output: [{ type: "message", text: "never" }] }] });
    const response = await post(server, { model: "claude-sonnet-4-6", messages: [], stream: false });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      type: "error",
      error: {
        type: "invalid_request_error",
        message:
          "fake model server: invalid /v1/messages request: max_tokens: Invalid input: expected number, received undefined; " +
          "stream: the fake model server only serves streaming requests (stream: true)",
      },
      request_id: null,
    });
    expect(server.remainingSteps()).toBe(1);
  });

  it("says when the scenario is exhausted, in Anthropic's error shape", async () => {
    const server = await start({ steps: [] });
    const response = await post(server, validBody);
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({
      type: "error",
      error: { type: "api_error", message: "fake model server: scenario exhausted (0 requests served)" },
    });
  });
});
