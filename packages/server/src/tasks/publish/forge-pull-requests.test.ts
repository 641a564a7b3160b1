import { createServer, type RequestListener } from "node:http";
import type { AddressInfo } from "node:net";
import { KilnError } from "@kiln/protocol";
import { createFakeForge, type FakeForge } from "@kiln/test-support";
import { afterEach, describe, expect, it } from "vitest";
import { findOpenPullRequest, savePullRequest } from "./forge-pull-requests.ts";
import type { ForgeClient, ForgeTarget } from "./forge-request.ts";

const TOKEN = "glpat-forgeSecret-0001";
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function fake(kind: "github" | "gitlab", repos?: string[]): Promise<FakeForge> {
  const forge = await createFakeForge({ kind, token: TOKEN, ...(repos ? { repos } : {}) });
  cleanups.push(() => forge.close());
  return forge;
}

function client(forge: Omit<ForgeTarget, "token">, extra: Partial<ForgeClient> = {}): ForgeClient {
  return { forge: { ...forge, token: TOKEN }, fetch, timeoutMs: 5000, ...extra };
}

/** A one-off HTTP server for answers the fake forge never gives (403, rate limits, silence, HTML). */
async function serve(handler: RequestListener): Promise<string> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function rejection(promise: Promise<unknown>): Promise<KilnError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KilnError);
  return error as KilnError;
}

const spec = { branch: "kiln/task_9-0", baseBranch: "main", title: "Fix", body: "Fixes it." };

describe("forge pull requests", () => {
  it("a closed pull request is not reused: publishing again opens a new one", async () => {
    const forge = await fake("github");
    const github = client({ kind: "github", apiUrl: forge.url, repo: "acme/widgets" });
    await savePullRequest(github, spec, await findOpenPullRequest(github, spec.branch));
    forge.pulls[0]!.state = "closed";

    expect(await findOpenPullRequest(github, spec.branch)).toBeUndefined();
    expect(await savePullRequest(github, spec, undefined)).toEqual({
      url: `${forge.url}/acme/widgets/pull/2`,
      number: 2,
      state: "open",
    });
  });

  it("a second GitHub pull request for the same head is refused with GitHub's reason", async () => {
    const forge = await fake("github");
    const github = client({ kind: "github", apiUrl: forge.url, repo: "acme/widgets" });
    await savePullRequest(github, spec, undefined);

    const error = await rejection(savePullRequest(github, spec, undefined));
    expect(error.toInfo()).toEqual({
      code: "publish_failed",
      message:
        "GitHub rejected POST /repos/acme/widgets/pulls (HTTP 422: Validation Failed; A pull request already exists for acme:kiln/task_9-0.).",
      retryable: false,
      details: { status: 422, call: "POST /repos/acme/widgets/pulls" },
    });
  });

  it("a second GitLab merge request for the same source branch is refused with GitLab's reason", async () => {
    const forge = await fake("gitlab");
    const gitlab = client({ kind: "gitlab", apiUrl: forge.url, repo: "acme/widgets" });
    await savePullRequest(gitlab, spec, undefined);

    const error = await rejection(savePullRequest(gitlab, spec, undefined));
    expect(error.message).toBe(
      "GitLab rejected POST /projects/acme%2Fwidgets/merge_requests (HTTP 409: Another open merge request already exists for this source branch: !1).",
    );
  });

  it("a repository the forge does not have (or the token cannot see) says which and where", async () => {
    const forge = await fake("gitlab", ["acme/widgets"]);
    const gitlab = client({ kind: "gitlab", apiUrl: forge.url, repo: "acme/gadgets" });

    const error = await rejection(findOpenPullRequest(gitlab, spec.branch));
    expect([error.code, error.message]).toEqual([
      "publish_failed",
      `GitLab has no repository acme/gadgets at ${forge.url}, or the token cannot see it (HTTP 404: 404 Project Not Found). Check the environment's forge settings.`,
    ]);
  });

  it("a token without permission, and a rate-limited token, are told apart", async () => {
    const url = await serve((req, res) => {
      const limited = req.url?.includes("limited") === true;
      res.writeHead(403, {
        "content-type": "application/json",
        "x-ratelimit-remaining": limited ? "0" : "4999",
      });
      res.end(
        JSON.stringify({ message: limited ? "API rate limit exceeded" : `Resource not accessible ${TOKEN}` }),
      );
    });
    const denied = await rejection(
      findOpenPullRequest(client({ kind: "github", apiUrl: url, repo: "acme/w" }), "b"),
    );
    const limited = await rejection(
      findOpenPullRequest(client({ kind: "github", apiUrl: `${url}/limited`, repo: "acme/w" }), "b"),
    );

    expect(denied.toInfo()).toEqual({
      code: "publish_failed",
      message: `GitHub denied GET /repos/acme/w/pulls?head=acme%3Ab&state=open (HTTP 403: Resource not accessible ***): the token lacks permission to open pull requests in acme/w. Give it "Pull requests: read and write".`,
      retryable: false,
      details: { status: 403, call: "GET /repos/acme/w/pulls?head=acme%3Ab&state=open" },
    });
    expect([limited.message, limited.retryable]).toEqual([
      "GitHub is rate-limiting the token (HTTP 403: API rate limit exceeded): try again later.",
      true,
    ]);
  });

  it("a forge that does not answer in time is a retryable publish_failed; the caller's abort is its own", async () => {
    const url = await serve(() => {});
    const slow = client({ kind: "gitlab", apiUrl: url, repo: "acme/w" }, { timeoutMs: 200 });
    const timedOut = await rejection(findOpenPullRequest(slow, "b"));
    expect([timedOut.code, timedOut.retryable]).toEqual(["publish_failed", true]);
    expect(timedOut.message).toBe(
      `could not reach GitLab at ${url}/projects/acme%2Fw/merge_requests?source_branch=b&state=opened: it did not answer within 200 ms`,
    );

    const controller = new AbortController();
    const pending = findOpenPullRequest({ ...slow, timeoutMs: 5000, signal: controller.signal }, "b");
    controller.abort(new Error("cancelled by the user"));
    await expect(pending).rejects.toThrow("cancelled by the user");
  });

  it("an API URL that answers with something other than JSON is named as the likely mistake", async () => {
    const url = await serve((_req, res) => res.writeHead(200, { "content-type": "text/html" }).end("<html>"));
    const error = await rejection(
      findOpenPullRequest(client({ kind: "github", apiUrl: url, repo: "acme/w" }), "b"),
    );
    expect(error.message).toBe(
      `GitHub answered GET /repos/acme/w/pulls?head=acme%3Ab&state=open with something that is not JSON (HTTP 200): is ${url} its REST API base?`,
    );
  });

  it("a GitHub repository that is not owner/name is a configuration error", async () => {
    const error = await rejection(
      findOpenPullRequest(
        client({ kind: "github", apiUrl: "http://127.0.0.1:9", repo: "acme/tools/w" }),
        "b",
      ),
    );
    expect(error.code).toBe("config_invalid");
  });
});
