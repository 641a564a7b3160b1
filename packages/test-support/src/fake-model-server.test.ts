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

async function collectResponseEvents(client: OpenAI, input = "hi"): Promise<ResponseStreamEvent[]> {
  const stream = await client.responses.create({
    model: "gpt-5.5",
    input: [{ type: "message", role: "user", content: [{ type: "input_text", text: input }] }],
    stream: true,
  });
  const events: ResponseStreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

const messageAndCall: Scenario = {
  steps: [
    {
      output: [
        { type: "message", text: "Let me look at the files." },
        { type: "exec_command", cmd: "ls -la", workdir: "/repo" },
      ],
      usage: { input_tokens: 100, cached_tokens: 40, output_tokens: 20, reasoning_tokens: 5 },
    },
  ],
};

describe("the Responses wire", () => {
  it("streams a message and a function call as the exact OpenAI event sequence", async () => {
    const { client } = await start(messageAndCall);
    const events = await collectResponseEvents(client);

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
      "response.output_item.added",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const deltas = events.flatMap((e) => (e.type === "response.output_text.delta" ? [e.delta] : []));
    expect(deltas.join("")).toBe("Let me look at the files.");
  });

  it("ends with response.completed carrying the whole output and the usage", async () => {
    const { client } = await start(messageAndCall);
    const events = await collectResponseEvents(client);
    const completed = events.at(-1);
    if (completed?.type !== "response.completed") throw new Error(`last event was ${completed?.type}`);

    expect(completed.response).toMatchObject({
      id: "resp_1",
      object: "response",
      status: "completed",
      model: "gpt-5.5",
      error: null,
      output: [
        {
          type: "message",
          id: "msg_1",
          role: "assistant",
          status: "completed",
          content: [{ type: "output_text", text: "Let me look at the files.", annotations: [] }],
        },
        {
          type: "function_call",
          id: "fc_1",
          call_id: "call_1",
          name: "exec_command",
          arguments: JSON.stringify({ cmd: "ls -la", workdir: "/repo" }),
          status: "completed",
        },
      ],
    });
    expect(completed.response.usage).toEqual({
      input_tokens: 100,
      input_tokens_details: { cached_tokens: 40 },
      output_tokens: 20,
      output_tokens_details: { reasoning_tokens: 5 },
      total_tokens: 120,
    });
  });

  it("renders apply_patch as a custom tool call and reasoning as a summary", async () => {
    const patch = "*** Begin Patch\n*** Add File: hello.txt\n+hello\n*** End Patch\n";
    const { client } = await start({
      steps: [
        {
          output: [
            { type: "reasoning", summary: "Adding a file." },
            { type: "apply_patch", patch },
          ],
        },
      ],
    });
    const events = await collectResponseEvents(client);

    expect(events.map((e) => e.type)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.reasoning_summary_part.added",
      "response.reasoning_summary_text.delta",
      "response.reasoning_summary_text.delta",
      "response.reasoning_summary_text.delta",
      "response.reasoning_summary_text.done",
      "response.reasoning_summary_part.done",
      "response.output_item.done",
      "response.output_item.added",
      "response.custom_tool_call_input.delta",
      "response.custom_tool_call_input.delta",
      "response.custom_tool_call_input.delta",
      "response.custom_tool_call_input.done",
      "response.output_item.done",
      "response.completed",
    ]);
    const done = events.flatMap((e) => (e.type === "response.output_item.done" ? [e.item] : []));
    expect(done).toEqual([
      { id: "rs_1", type: "reasoning", summary: [{ type: "summary_text", text: "Adding a file." }] },
      {
        id: "ctc_1",
        type: "custom_tool_call",
        call_id: "call_1",
        name: "apply_patch",
        input: patch,
        status: "completed",
      },
    ]);
  });

  it("includes encrypted reasoning content when the request asks for it", async () => {
    const { client } = await start({ steps: [{ output: [{ type: "reasoning", summary: "Thinking." }] }] });
    const stream = await client.responses.create({
      model: "gpt-5.5",
      input: [],
      stream: true,
      store: false,
      include: ["reasoning.encrypted_content"],
    });
    const items: unknown[] = [];
    for await (const event of stream) if (event.type === "response.output_item.done") items.push(event.item);

    expect(items).toEqual([
      {
        id: "rs_1",
        type: "reasoning",
        summary: [{ type: "summary_text", text: "Thinking." }],
        encrypted_content: expect.stringMatching(/^gAAAAA/),
      },
    ]);
  });

  it("renders every Codex tool as a function call with JSON arguments", async () => {
    const { client } = await start({
      steps: [
        {
          output: [
            { type: "write_stdin", session_id: 7, chars: "y\n", yield_time_ms: 500 },
            {
              type: "update_plan",
              explanation: "Starting.",
              plan: [
                { step: "Read the code", status: "completed" },
                { step: "Fix the bug", status: "in_progress" },
              ],
            },
            { type: "function_call", name: "view_image", arguments: { path: "a.png" } },
            { type: "function_call", name: "broken", arguments: '{"path": ' },
          ],
        },
      ],
    });
    const events = await collectResponseEvents(client);
    const done = events.flatMap((e) => (e.type === "response.output_item.done" ? [e.item] : []));

    expect(done).toEqual([
      {
        id: "fc_1",
        type: "function_call",
        call_id: "call_1",
        name: "write_stdin",
        arguments: '{"session_id":7,"chars":"y\\n","yield_time_ms":500}',
        status: "completed",
      },
      {
        id: "fc_2",
        type: "function_call",
        call_id: "call_2",
        name: "update_plan",
        arguments: JSON.stringify({
          plan: [
            { step: "Read the code", status: "completed" },
            { step: "Fix the bug", status: "in_progress" },
          ],
          explanation: "Starting.",
        }),
        status: "completed",
      },
      {
        id: "fc_3",
        type: "function_call",
        call_id: "call_3",
        name: "view_image",
        arguments: '{"path":"a.png"}',
        status: "completed",
      },
      {
        id: "fc_4",
        type: "function_call",
        call_id: "call_4",
        name: "broken",
        arguments: '{"path": ',
        status: "completed",
      },
    ]);
  });

  it("keeps call ids unique across requests for the whole server lifetime", async () => {
    const { client } = await start({
      steps: [
        { output: [{ type: "exec_command", cmd: "ls" }] },
        { output: [{ type: "apply_patch", patch: "p" }] },
      ],
    });
    const first = await collectResponseEvents(client);
    const second = await collectResponseEvents(client);
    const items = [...first, ...second].flatMap((e) =>
      e.type === "response.output_item.done" ? [e.item] : [],
    );

    expect(items.map((i) => ("call_id" in i ? [i.id, i.call_id] : []))).toEqual([
      ["fc_1", "call_1"],
      ["ctc_1", "call_2"],
    ]);
  });

  it("is accepted by the SDK's own stream accumulator (responses.stream)", async () => {
    const { client } = await start(messageAndCall);
    const stream = client.responses.stream({ model: "gpt-5.5", input: [] });
    const final = await stream.finalResponse();

    expect(final.output_text).toBe("Let me look at the files.");
    expect(final.output.map((o) => o.type)).toEqual(["message", "function_call"]);
  });

  it("estimates usage from the body and output when the step gives none", async () => {
    const { client, server } = await start({ steps: [{ output: [{ type: "message", text: "12345678" }] }] });
    const events = await collectResponseEvents(client);
    const completed = events.at(-1);
    if (completed?.type !== "response.completed") throw new Error(`last event was ${completed?.type}`);
    const bodyLength = JSON.stringify(server.requests[0]?.body).length;

    expect(completed.response.usage).toEqual({
      input_tokens: Math.ceil(bodyLength / 4),
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: 2,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: Math.ceil(bodyLength / 4) + 2,
    });
  });

  it("rejects a request without stream: true with a 400 naming the field", async () => {
    const { client, server } = await start({ steps: [{ output: [{ type: "message", text: "unused" }] }] });
    const error = await client.responses.create({ model: "gpt-5.5", input: [] }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).message).toContain("stream");
    expect(server.remainingSteps()).toBe(1);
    expect(server.requests[0]?.stepIndex).toBeNull();
  });
});

describe("the Chat Completions wire", () => {
  const chatScenario: Scenario = {
    steps: [
      {
        output: [
          { type: "reasoning", summary: "not sent on chat" },
          { type: "message", text: "Running the tests now." },
          { type: "exec_command", cmd: "npm test" },
          { type: "apply_patch", patch: "*** Begin Patch\n*** End Patch\n" },
        ],
        usage: { input_tokens: 50, cached_tokens: 10, output_tokens: 30, reasoning_tokens: 4 },
      },
    ],
  };

  it("streams content and tool-call fragments that assemble into the calls, then usage", async () => {
    const { client } = await start(chatScenario);
    const stream = await client.chat.completions.create({
      model: "gpt-5.5",
      messages: [{ role: "user", content: "run the tests" }],
      stream: true,
      stream_options: { include_usage: true },
    });

    let content = "";
    const calls: { id: string; name: string; arguments: string }[] = [];
    const finishReasons: string[] = [];
    let usage: unknown = null;
    for await (const chunk of stream) {
      expect(chunk.object).toBe("chat.completion.chunk");
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices[0];
      if (!choice) continue;
      content += choice.delta.content ?? "";
      if (choice.finish_reason) finishReasons.push(choice.finish_reason);
      for (const fragment of choice.delta.tool_calls ?? []) {
        const call = calls[fragment.index] ?? { id: "", name: "", arguments: "" };
        calls[fragment.index] = call;
        call.id += fragment.id ?? "";
        call.name += fragment.function?.name ?? "";
        call.arguments += fragment.function?.arguments ?? "";
      }
    }

    expect(content).toBe("Running the tests now.");
    expect(calls).toEqual([
      { id: "call_1", name: "exec_command", arguments: '{"cmd":"npm test"}' },
      {
        id: "call_2",
        name: "apply_patch",
        arguments: JSON.stringify({ input: "*** Begin Patch\n*** End Patch\n" }),
      },
    ]);
    expect(finishReasons).toEqual(["tool_calls"]);
    expect(usage).toEqual({
      prompt_tokens: 50,
      completion_tokens: 30,
      total_tokens: 80,
      prompt_tokens_details: { cached_tokens: 10, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: 4,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    });
  });

  it("is accepted by the SDK's own chat accumulator (chat.completions.stream)", async () => {
    const { client } = await start(chatScenario);
    const stream = client.chat.completions.stream({
      model: "gpt-5.5",
      messages: [{ role: "user", content: "run the tests" }],
      stream_options: { include_usage: true },
    });
    const completion = await stream.finalChatCompletion();

    expect(completion.choices[0]?.finish_reason).toBe("tool_calls");
    expect(completion.choices[0]?.message).toMatchObject({
      role: "assistant",
      content: "Running the tests now.",
      tool_calls: [
        {
          id: "call_1",
          type: "function",
          function: { name: "exec_command", arguments: '{"cmd":"npm test"}' },
        },
        { id: "call_2", type: "function", function: { name: "apply_patch" } },
      ],
    });
    expect(completion.usage?.total_tokens).toBe(80);
  });

  it("finishes a plain answer with stop and omits usage unless asked", async () => {
    const { client } = await start({ steps: [{ output: [{ type: "message", text: "Hi there." }] }] });
    const stream = await client.chat.completions.create({
      model: "gpt-5.5",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);

    expect(chunks.map((c) => c.choices[0]?.finish_reason ?? null).at(-1)).toBe("stop");
    expect(chunks.every((c) => !("usage" in c))).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe("Hi there.");
  });
});

describe("scenario steps", () => {
  it("serve each request the first unconsumed step whose when matches", async () => {
    const { client, server } = await start({
      steps: [
        { when: { bodyIncludes: "thread-B" }, output: [{ type: "message", text: "answer for B" }] },
        { when: { bodyIncludes: "thread-A" }, output: [{ type: "message", text: "answer for A" }] },
        { output: [{ type: "message", text: "answer for anyone" }] },
      ],
    });
    const textOf = async (input: string) =>
      (await collectResponseEvents(client, input)).flatMap((e) =>
        e.type === "response.output_text.done" ? [e.text] : [],
      );

    expect(await textOf("I am thread-A")).toEqual(["answer for A"]);
    expect(await textOf("I am thread-C")).toEqual(["answer for anyone"]);
    expect(await textOf("I am thread-B")).toEqual(["answer for B"]);
    expect(server.requests.map((r) => r.stepIndex)).toEqual([1, 2, 0]);
  });

  it("let concurrent threads share one server, each getting its own step", async () => {
    const { client } = await start({
      steps: [
        { when: { bodyIncludes: "thread-A" }, output: [{ type: "message", text: "for A" }], chunkDelayMs: 5 },
        { when: { bodyIncludes: "thread-B" }, output: [{ type: "message", text: "for B" }], chunkDelayMs: 5 },
      ],
    });
    const textOf = async (input: string) =>
      (await collectResponseEvents(client, input)).flatMap((e) =>
        e.type === "response.output_text.done" ? [e.text] : [],
      );
    const [b, a] = await Promise.all([textOf("thread-B"), textOf("thread-A")]);

    expect({ a, b }).toEqual({ a: ["for A"], b: ["for B"] });
  });

  it("fail loudly when steps remain but none matches", async () => {
    const { client } = await start({ steps: [{ when: { bodyIncludes: "thread-B" }, output: [] }] });
    const error = await collectResponseEvents(client, "thread-A").catch((e: unknown) => e);

    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect((error as Error).message).toContain("no scenario step matches this request");
  });

  it("repeat a step as many times as asked", async () => {
    const { client, server } = await start({
      steps: [{ output: [{ type: "message", text: "again" }], repeat: 3 }],
    });
    expect(server.remainingSteps()).toBe(3);
    await collectResponseEvents(client);
    await collectResponseEvents(client);

    expect(server.remainingSteps()).toBe(1);
  });

  it("answer 500 saying the scenario is exhausted once every step is served", async () => {
    const { client } = await start({ steps: [{ output: [{ type: "message", text: "only one" }] }] });
    await collectResponseEvents(client);
    const error = await collectResponseEvents(client).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect((error as InstanceType<typeof OpenAI.InternalServerError>).status).toBe(500);
    expect((error as Error).message).toContain("fake model server: scenario exhausted (1 requests served)");
  });

  it("start over, with an empty request log, after setScenario", async () => {
    const { client, server } = await start({ steps: [] });
    server.setScenario({ steps: [{ output: [{ type: "message", text: "new" }] }] });
    const events = await collectResponseEvents(client);

    expect(events.at(-1)?.type).toBe("response.completed");
    expect(server.requests).toHaveLength(1);
    expect(server.remainingSteps()).toBe(0);
  });
});

describe("the request log", () => {
  it("records every request with its path, headers, parsed body and serving step", async () => {
    const { client, server } = await start({ steps: [{ output: [{ type: "message", text: "ok" }] }] });
    const before = Date.now();
    await collectResponseEvents(client, "hello");
    await collectResponseEvents(client).catch(() => undefined);
    await client.models.list();

    expect(server.requests).toEqual([
      {
        path: "/v1/responses",
        method: "POST",
        headers: expect.objectContaining({
          authorization: "Bearer test",
          "content-type": "application/json",
        }),
        body: {
          model: "gpt-5.5",
          input: [{ type: "message", role: "user", content: [{ type: "input_text", text: "hello" }] }],
          stream: true,
        },
        at: expect.any(Number),
        stepIndex: 0,
      },
      expect.objectContaining({ path: "/v1/responses", stepIndex: null }),
      expect.objectContaining({ path: "/v1/models", method: "GET", body: null, stepIndex: null }),
    ]);
    expect(server.requests[0]?.at).toBeGreaterThanOrEqual(before);
  });

  it("is separate for each of several servers in one process", async () => {
    const a = await start({ steps: [{ output: [{ type: "message", text: "a" }] }] });
    const b = await start({ steps: [{ output: [{ type: "exec_command", cmd: "b" }] }] });
    await collectResponseEvents(a.client);
    const events = await collectResponseEvents(b.client);

    expect(a.server.url).not.toBe(b.server.url);
    expect(a.server.requests).toHaveLength(1);
    expect(b.server.requests).toHaveLength(1);
    expect(events.find((e) => e.type === "response.output_item.done")).toMatchObject({
      item: { id: "fc_1", call_id: "call_1" },
    });
  });
});
