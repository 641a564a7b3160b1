import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A fake GitHub or GitLab REST API on loopback HTTP, holding pull (merge) requests in memory, so tests
 * run a real forge client. It implements only what publishing uses, as the real forges answer it:
 * GitHub `GET|POST /repos/{o}/{r}/pulls` (list filtered by `head=owner:branch`, `base`, `state`; 422
 * when an open pull request for the same head and base exists), `GET|PATCH /repos/{o}/{r}/pulls/{n}`;
 * GitLab `GET|POST /api/v4/projects/{url-encoded path}/merge_requests` (list filtered by
 * `source_branch`, `target_branch`, `state`; 409 on a duplicate), `GET|PUT …/merge_requests/{iid}`.
 * A missing or wrong token is a 401.
 */

/** Which forge to imitate. */
export interface FakeForgeOptions {
  kind: "github" | "gitlab";
  /** The only token accepted (default `fake-forge-token`). */
  token?: string;
  /** Repositories (`owner/name`, `group/project`) that exist; others are a 404. Default: any. */
  repos?: string[];
}

/** One request the fake received. */
export interface FakeForgeRequest {
  method: string;
  /** The URL path as sent (still percent-encoded), without the query. */
  path: string;
  query: Record<string, string>;
  /** Lower-case names. */
  headers: Record<string, string>;
  /** Parsed JSON body, or `null` when there was none. */
  body: unknown;
}

/** A pull (merge) request as the fake stores it; tests may change `state` to close one. */
export interface FakePull {
  /** GitHub `number` / GitLab `iid`. */
  number: number;
  repo: string;
  title: string;
  body: string;
  /** The source branch. */
  head: string;
  /** The target branch. */
  base: string;
  /** GitHub `open|closed`, GitLab `opened|closed|merged`. */
  state: string;
  draft: boolean;
}

/** A running fake forge. */
export interface FakeForge {
  /** The API base to configure: `http://127.0.0.1:PORT` (GitHub) or `…/api/v4` (GitLab). */
  readonly url: string;
  readonly token: string;
  /** Every request, in arrival order. */
  readonly requests: FakeForgeRequest[];
  /** Pull requests, in creation order. */
  readonly pulls: FakePull[];
  /** Stops the server and cuts open connections. */
  close(): Promise<void>;
}

interface Answer {
  status: number;
  json: unknown;
}

/** Starts a fake forge on 127.0.0.1 with an ephemeral port. */
export async function createFakeForge(options: FakeForgeOptions): Promise<FakeForge> {
  const token = options.token ?? "fake-forge-token";
  const requests: FakeForgeRequest[] = [];
  const pulls: FakePull[] = [];
  let origin = "";
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => send(res, { status: 500, json: { message: String(error) } }));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", origin);
    const text = await readBody(req);
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : (v ?? "")]),
    );
    let body: unknown = null;
    try {
      body = text === "" ? null : JSON.parse(text);
    } catch {
      requests.push({ method: req.method ?? "", path: url.pathname, query: {}, headers, body: text });
      return send(res, { status: 400, json: { message: "Problems parsing JSON" } });
    }
    const query = Object.fromEntries(url.searchParams);
    requests.push({ method: req.method ?? "", path: url.pathname, query, headers, body });
    if (!authorized(headers)) {
      return send(res, {
        status: 401,
        json:
          options.kind === "github"
            ? { message: "Bad credentials", status: "401" }
            : { message: "401 Unauthorized" },
      });
    }
    const segments = url.pathname.split("/").slice(1).map(decodeURIComponent);
    const call = { method: req.method ?? "GET", query, body: (body ?? {}) as Record<string, unknown> };
    send(res, options.kind === "github" ? github(segments, call) : gitlab(segments, call));
  }

  function authorized(headers: Record<string, string>): boolean {
    const bearer = headers.authorization?.match(/^(?:Bearer|token) (.+)$/i)?.[1];
    if (options.kind === "gitlab" && headers["private-token"] !== undefined)
      return headers["private-token"] === token;
    return bearer === token;
  }

  function known(repo: string): boolean {
    return options.repos === undefined || options.repos.includes(repo);
  }

  type Call = { method: string; query: Record<string, string>; body: Record<string, unknown> };

  function github(segments: string[], call: Call): Answer {
    const [root, owner, name, pullsSegment, numberSegment, ...rest] = segments;
    const repo = `${owner}/${name}`;
    if (root !== "repos" || pullsSegment !== "pulls" || rest.length > 0 || !known(repo))
      return githubNotFound();
    const mine = pulls.filter((p) => p.repo === repo);
    if (numberSegment === undefined && call.method === "GET") {
      const state = call.query.state ?? "open";
      const head = call.query.head;
      return ok(
        mine
          .filter((p) => state === "all" || p.state === state)
          // Like GitHub, only the `owner:branch` form matches.
          .filter((p) => head === undefined || head === `${owner}:${p.head}`)
          .filter((p) => call.query.base === undefined || p.base === call.query.base)
          .map(githubPull),
      );
    }
    if (numberSegment === undefined && call.method === "POST") {
      const { title, head, base, body, draft } = call.body;
      const missing = firstMissing({ title, head, base });
      if (missing)
        return validationFailed({ resource: "PullRequest", field: missing, code: "missing_field" });
      const ref = String(head).replace(/^[^:]+:/, "");
      if (mine.some((p) => p.state === "open" && p.head === ref && p.base === base)) {
        return validationFailed({
          resource: "PullRequest",
          code: "custom",
          message: `A pull request already exists for ${owner}:${ref}.`,
        });
      }
      const pull = add({
        repo,
        title: String(title),
        body: typeof body === "string" ? body : "",
        head: ref,
        base: String(base),
        state: "open",
        draft: draft === true,
      });
      return { status: 201, json: githubPull(pull) };
    }
    const pull = mine.find((p) => String(p.number) === numberSegment);
    if (pull === undefined) return githubNotFound();
    if (call.method === "GET") return ok(githubPull(pull));
    if (call.method !== "PATCH") return githubNotFound();
    const { title, body, base, state } = call.body;
    if (typeof title === "string") pull.title = title;
    if (typeof body === "string") pull.body = body;
    if (typeof base === "string") pull.base = base;
    if (state === "open" || state === "closed") pull.state = state;
    return ok(githubPull(pull));
  }

  function gitlab(segments: string[], call: Call): Answer {
    const [api, version, projects, project, mrSegment, iidSegment, ...rest] = segments;
    const repo = project ?? "";
    if (api !== "api" || version !== "v4" || projects !== "projects" || rest.length > 0 || !known(repo)) {
      return { status: 404, json: { message: "404 Project Not Found" } };
    }
    if (mrSegment !== "merge_requests") return { status: 404, json: { error: "404 Not Found" } };
    const mine = pulls.filter((p) => p.repo === repo);
    if (iidSegment === undefined && call.method === "GET") {
      const state = call.query.state ?? "all";
      return ok(
        mine
          .filter((p) => state === "all" || p.state === state)
          .filter((p) => call.query.source_branch === undefined || p.head === call.query.source_branch)
          .filter((p) => call.query.target_branch === undefined || p.base === call.query.target_branch)
          .map(gitlabMergeRequest),
      );
    }
    if (iidSegment === undefined && call.method === "POST") {
      const { source_branch, target_branch, title, description } = call.body;
      const missing = firstMissing({ source_branch, target_branch, title });
      if (missing) return { status: 400, json: { error: `${missing} is missing` } };
      const existing = mine.find(
        (p) => p.state === "opened" && p.head === source_branch && p.base === target_branch,
      );
      if (existing) {
        return {
          status: 409,
          json: {
            message: [
              `Another open merge request already exists for this source branch: !${existing.number}`,
            ],
          },
        };
      }
      const mr = add({
        repo,
        title: String(title),
        body: typeof description === "string" ? description : "",
        head: String(source_branch),
        base: String(target_branch),
        state: "opened",
        draft: isDraftTitle(String(title)),
      });
      return { status: 201, json: gitlabMergeRequest(mr) };
    }
    const mr = mine.find((p) => String(p.number) === iidSegment);
    if (mr === undefined) return { status: 404, json: { message: "404 Not found" } };
    if (call.method === "GET") return ok(gitlabMergeRequest(mr));
    if (call.method !== "PUT") return { status: 405, json: { error: "405 Method Not Allowed" } };
    const { title, description, target_branch, state_event } = call.body;
    if (typeof title === "string") {
      mr.title = title;
      mr.draft = isDraftTitle(title);
    }
    if (typeof description === "string") mr.body = description;
    if (typeof target_branch === "string") mr.base = target_branch;
    if (state_event === "close") mr.state = "closed";
    if (state_event === "reopen") mr.state = "opened";
    return ok(gitlabMergeRequest(mr));
  }

  function add(fields: Omit<FakePull, "number">): FakePull {
    const pull = { number: pulls.filter((p) => p.repo === fields.repo).length + 1, ...fields };
    pulls.push(pull);
    return pull;
  }

  function githubPull(p: FakePull) {
    const [owner] = p.repo.split("/");
    return {
      id: 1000 + p.number,
      number: p.number,
      state: p.state,
      title: p.title,
      body: p.body,
      draft: p.draft,
      html_url: `${origin}/${p.repo}/pull/${p.number}`,
      url: `${origin}/repos/${p.repo}/pulls/${p.number}`,
      head: { ref: p.head, label: `${owner}:${p.head}` },
      base: { ref: p.base, label: `${owner}:${p.base}` },
    };
  }

  function gitlabMergeRequest(p: FakePull) {
    return {
      id: 1000 + p.number,
      iid: p.number,
      title: p.title,
      description: p.body,
      state: p.state,
      draft: p.draft,
      source_branch: p.head,
      target_branch: p.base,
      web_url: `${origin}/${p.repo}/-/merge_requests/${p.number}`,
    };
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let closing: Promise<void> | undefined;
  return {
    url: options.kind === "github" ? origin : `${origin}/api/v4`,
    token,
    requests,
    pulls,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function ok(json: unknown): Answer {
  return { status: 200, json };
}

function githubNotFound(): Answer {
  return { status: 404, json: { message: "Not Found", documentation_url: "https://docs.github.com/rest" } };
}

function validationFailed(error: Record<string, string | undefined>): Answer {
  return {
    status: 422,
    json: {
      message: "Validation Failed",
      errors: [error],
      documentation_url: "https://docs.github.com/rest",
    },
  };
}

/** The first field that is not a non-empty string. */
function firstMissing(fields: Record<string, unknown>): string | undefined {
  return Object.entries(fields).find(([, v]) => typeof v !== "string" || v === "")?.[0];
}

function isDraftTitle(title: string): boolean {
  return /^\s*(\[draft\]|\(draft\)|draft:|draft\s*-)/i.test(title);
}

function send(res: ServerResponse, answer: Answer): void {
  res.writeHead(answer.status, { "Content-Type": "application/json; charset=utf-8" });
  res.end(JSON.stringify(answer.json));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
