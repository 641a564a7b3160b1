import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MAX_BODY_BYTES } from "./json-body.ts";
import { createTestApp, send, type TestApp } from "./test-app.ts";

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

const login = (body: unknown, headers?: Record<string, string>) =>
  send(t.app, "POST", "/api/v1/auth/login", { body, ...(headers === undefined ? {} : { headers }) });

describe("request bodies", () => {
  it("malformed JSON is a 400 that does not quote the body", async () => {
    const reply = await login('{"username": "alice", "password": "hunter2hunter2"');
    expect(reply.status).toBe(400);
    expect(reply.body).toEqual({
      error: {
        code: "invalid_request",
        message: "the request body is not valid JSON",
        retryable: false,
        details: { field: "body" },
      },
    });
    expect(reply.text).not.toContain("hunter2");
  });

  it("a wrong type is a 400 naming the field", async () => {
    const reply = await login({ username: "alice", password: 12345678 });
    expect(reply.status).toBe(400);
    expect(reply.body).toEqual({
      error: {
        code: "invalid_request",
        message: '"password": Invalid input: expected string, received number',
        retryable: false,
        details: {
          field: "password",
          issues: [{ field: "password", message: "Invalid input: expected string, received number" }],
        },
      },
    });
  });

  it("a missing field is a 400 saying it is required", async () => {
    const reply = await login({ username: "alice" });
    expect((reply.body as { error: { message: string } }).error.message).toBe('"password": is required');
  });

  it("an unknown field is a 400 naming it", async () => {
    const reply = await login({ username: "alice", password: "x", remember: true });
    expect(reply.status).toBe(400);
    expect((reply.body as { error: { details: { field: string } } }).error.details.field).toBe("remember");
  });

  it("a body that is not an object, or no body, is a 400", async () => {
    for (const body of ["[]", '"alice"', "null", ""]) {
      const reply = await send(t.app, "POST", "/api/v1/auth/login", {
        body,
        headers: { "content-type": "application/json" },
      });
      expect(reply.status).toBe(400);
    }
  });

  it("a body not sent as application/json is a 400 (so a cross-site form cannot post it)", async () => {
    const reply = await login({ username: "alice", password: "x" }, { "content-type": "text/plain" });
    expect(reply.status).toBe(400);
    expect((reply.body as { error: { details: { field: string } } }).error.details.field).toBe(
      "content-type",
    );
  });

  it("a body over 1 MiB is a 413, whether declared or streamed", async () => {
    const big = JSON.stringify({ username: "alice", password: "x".repeat(MAX_BODY_BYTES) });
    const declared = await login(big);
    expect(declared.status).toBe(413);
    expect(declared.body).toEqual({
      error: {
        code: "payload_too_large",
        message: `the request body is larger than ${MAX_BODY_BYTES} bytes`,
        retryable: false,
        details: { field: "body", maxBytes: MAX_BODY_BYTES },
      },
    });
    const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > MAX_BODY_BYTES + chunk.length) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const streamed = await t.app.request("/api/v1/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(streamed.status).toBe(413);
  });
});
