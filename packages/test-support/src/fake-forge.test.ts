import { afterEach, describe, expect, it } from "vitest";
import { createFakeForge, type FakeForge } from "./fake-forge.ts";

let forge: FakeForge | undefined;
afterEach(async () => {
  await forge?.close();
  forge = undefined;
});

async function call(method: string, url: string, headers: Record<string, string>, body?: unknown) {
  const response = await fetch(url, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as unknown };
}

describe("createFakeForge", () => {
  it("GitHub: creates, lists by head and state, updates, and refuses a duplicate or a wrong token", async () => {
    forge = await createFakeForge({ kind: "github" });
    const auth = { authorization: `Bearer ${forge.token}` };
    const pulls = `${forge.url}/repos/acme/w/pulls`;
    const open = { title: "T", head: "kiln/a", base: "main", body: "B" };

    expect((await call("POST", pulls, auth, open)).status).toBe(201);
    expect(await call("POST", pulls, auth, open)).toMatchObject({
      status: 422,
      json: {
        message: "Validation Failed",
        errors: [{ message: "A pull request already exists for acme:kiln/a." }],
      },
    });
    expect(await call("POST", pulls, auth, { head: "kiln/b", base: "main" })).toMatchObject({
      status: 422,
      json: { errors: [{ field: "title", code: "missing_field" }] },
    });
    await call("POST", pulls, auth, { ...open, head: "kiln/b" });
    expect(await call("PATCH", `${pulls}/2`, auth, { title: "T2", state: "closed" })).toMatchObject({
      status: 200,
      json: { number: 2, title: "T2", state: "closed", html_url: `${forge.url}/acme/w/pull/2` },
    });

    const list = async (query: string) =>
      ((await call("GET", `${pulls}?${query}`, auth)).json as Array<{ number: number }>).map((p) => p.number);
    expect(await list("head=acme:kiln/a&state=open")).toEqual([1]);
    expect(await list("head=acme:kiln/b")).toEqual([]);
    expect(await list("head=acme:kiln/b&state=closed")).toEqual([2]);
    expect(await list("state=all")).toEqual([1, 2]);

    expect(await call("GET", pulls, { authorization: "Bearer nope" })).toEqual({
      status: 401,
      json: { message: "Bad credentials", status: "401" },
    });
    expect(forge.requests.at(-1)).toMatchObject({ method: "GET", path: "/repos/acme/w/pulls", query: {} });
  });

  it("GitLab: project ids are URL-encoded paths; a duplicate is a 409; PRIVATE-TOKEN authenticates", async () => {
    forge = await createFakeForge({ kind: "gitlab", token: "glpat-x", repos: ["g/sub/p"] });
    const auth = { "private-token": "glpat-x" };
    const mrs = `${forge.url}/projects/g%2Fsub%2Fp/merge_requests`;
    const open = { source_branch: "kiln/a", target_branch: "main", title: "Draft: T", description: "D" };

    expect(await call("POST", mrs, auth, open)).toMatchObject({
      status: 201,
      json: {
        iid: 1,
        state: "opened",
        draft: true,
        web_url: `${forge.url.replace("/api/v4", "")}/g/sub/p/-/merge_requests/1`,
      },
    });
    expect(await call("POST", mrs, auth, open)).toEqual({
      status: 409,
      json: { message: ["Another open merge request already exists for this source branch: !1"] },
    });
    expect(await call("PUT", `${mrs}/1`, auth, { title: "T" })).toMatchObject({
      json: { title: "T", draft: false },
    });
    expect((await call("GET", `${mrs}?source_branch=kiln/a&state=opened`, auth)).json).toHaveLength(1);
    expect((await call("GET", `${mrs}?source_branch=kiln/b`, auth)).json).toEqual([]);
    expect((await call("GET", `${forge.url}/projects/g%2Fother/merge_requests`, auth)).status).toBe(404);
    expect(await call("GET", mrs, { "private-token": "wrong" })).toEqual({
      status: 401,
      json: { message: "401 Unauthorized" },
    });
    expect(forge.pulls).toEqual([
      {
        number: 1,
        repo: "g/sub/p",
        title: "T",
        body: "D",
        head: "kiln/a",
        base: "main",
        state: "opened",
        draft: false,
      },
    ]);
  });
});
