import { access, readdir } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { KilnError } from "@kiln/protocol";
import { createFakeForge, type FakeForge } from "@kiln/test-support";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type PublishAttemptOptions, publishAttempt } from "./publish-attempt.ts";
import { createPublishFixture, type PublishFixture } from "./publish-fixture.ts";

const NOW = 1_760_000_000_000;
const TOKEN = "ghp_secretSecretSecret123";
let fx: PublishFixture;
let forge: FakeForge | undefined;

beforeAll(async () => {
  fx = await createPublishFixture();
});
afterAll(() => fx.cleanup());
beforeEach(() => fx.resetBare());
afterEach(async () => {
  await forge?.close();
  forge = undefined;
});

function options(overrides: Partial<PublishAttemptOptions> = {}): PublishAttemptOptions {
  return {
    repository: fx.bare,
    baseCommit: fx.baseCommit,
    baseBranch: "main",
    branch: "kiln/task_1-0",
    diff: fx.first.diff,
    title: "Add gears",
    body: "Gears turn the widgets.\n\n- new module\n- new icon",
    workDir: fx.workDir,
    now: () => NOW,
    ...overrides,
  };
}

/** Author, committer, dates, parents, tree and message of a commit in the bare repository. */
async function commitInfo(ref: string) {
  const [meta, ...message] = (
    await fx.bareGit("log", "-1", "--format=%an <%ae>|%cn <%ce>|%at|%ct|%P|%T%n%B", ref)
  )
    .trimEnd()
    .split("\n");
  const [author, committer, authorDate, commitDate, parents, tree] = meta!.split("|");
  return { author, committer, authorDate, commitDate, parents, tree, message: message.join("\n") };
}

async function rejection(promise: Promise<unknown>): Promise<KilnError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KilnError);
  return error as KilnError;
}

async function branches(): Promise<string[]> {
  return (await fx.bareGit("for-each-ref", "--format=%(refname)", "refs/heads")).trim().split("\n");
}

describe("publishAttempt", () => {
  it("pushes one commit whose message is the title and body and whose tree is the base plus the diff", async () => {
    const published = await publishAttempt(options());

    expect(published).toEqual({
      branch: "kiln/task_1-0",
      commit: (await fx.bareGit("rev-parse", "refs/heads/kiln/task_1-0")).trim(),
      publishedAt: NOW,
    });
    expect(await commitInfo(published.commit)).toEqual({
      author: "Kiln <kiln@localhost>",
      committer: "Kiln <kiln@localhost>",
      authorDate: String(NOW / 1000),
      commitDate: String(NOW / 1000),
      parents: fx.baseCommit,
      tree: fx.first.tree,
      message: "Add gears\n\nGears turn the widgets.\n\n- new module\n- new icon",
    });
    expect(await readdir(fx.workDir)).toEqual([]);
  });

  it("commits as the given author", async () => {
    const published = await publishAttempt(options({ author: { name: "Ada", email: "ada@example.com" } }));
    const info = await commitInfo(published.commit);
    expect([info.author, info.committer]).toEqual(["Ada <ada@example.com>", "Ada <ada@example.com>"]);
  });

  it("re-publishing a changed diff moves the kiln branch and updates the same GitHub pull request", async () => {
    forge = await createFakeForge({ kind: "github", token: TOKEN });
    const github = { kind: "github" as const, apiUrl: forge.url, repo: "acme/widgets", token: TOKEN };

    const first = await publishAttempt(options({ forge: github }));
    const second = await publishAttempt(
      options({ forge: github, diff: fx.second.diff, title: "Add springs", body: "Springs instead." }),
    );

    const pullRequest = { url: `${forge.url}/acme/widgets/pull/1`, number: 1, state: "open" };
    expect(first).toEqual({ branch: "kiln/task_1-0", commit: first.commit, publishedAt: NOW, pullRequest });
    expect(second).toEqual({ branch: "kiln/task_1-0", commit: second.commit, publishedAt: NOW, pullRequest });
    expect(second.commit).not.toBe(first.commit);
    expect((await fx.bareGit("rev-parse", "refs/heads/kiln/task_1-0")).trim()).toBe(second.commit);
    expect((await commitInfo(second.commit)).tree).toBe(fx.second.tree);

    const path = "/repos/acme/widgets/pulls";
    const listQuery = { head: "acme:kiln/task_1-0", state: "open" };
    expect(forge.requests.map(({ method, path, query, body }) => ({ method, path, query, body }))).toEqual([
      { method: "GET", path, query: listQuery, body: null },
      {
        method: "POST",
        path,
        query: {},
        body: {
          title: "Add gears",
          head: "kiln/task_1-0",
          base: "main",
          body: "Gears turn the widgets.\n\n- new module\n- new icon",
          draft: false,
        },
      },
      { method: "GET", path, query: listQuery, body: null },
      {
        method: "PATCH",
        path: `${path}/1`,
        query: {},
        body: { title: "Add springs", body: "Springs instead." },
      },
    ]);
    expect(forge.requests[1]?.headers).toMatchObject({
      authorization: `Bearer ${TOKEN}`,
      accept: "application/vnd.github+json",
      "x-github-api-version": "2022-11-28",
      "user-agent": "kiln",
    });
    expect(forge.pulls).toEqual([
      {
        number: 1,
        repo: "acme/widgets",
        title: "Add springs",
        body: "Springs instead.",
        head: "kiln/task_1-0",
        base: "main",
        state: "open",
        draft: false,
      },
    ]);
    // The token went in headers only: not into the repository, and the scratch repository is gone.
    expect(await fx.readAll(fx.bare)).not.toContain(TOKEN);
    expect(await readdir(fx.workDir)).toEqual([]);
  });

  it("re-publishing updates the same GitLab merge request, found by its URL-encoded project path", async () => {
    forge = await createFakeForge({ kind: "gitlab", token: TOKEN });
    const gitlab = { kind: "gitlab" as const, apiUrl: forge.url, repo: "acme/tools/widgets", token: TOKEN };

    const first = await publishAttempt(options({ forge: gitlab, draft: true }));
    const second = await publishAttempt(
      options({ forge: gitlab, diff: fx.second.diff, title: "Add springs" }),
    );

    const pullRequest = {
      url: `${forge.url.replace("/api/v4", "")}/acme/tools/widgets/-/merge_requests/1`,
      number: 1,
      state: "opened",
    };
    expect([first.pullRequest, second.pullRequest]).toEqual([pullRequest, pullRequest]);
    expect((await fx.bareGit("rev-parse", "refs/heads/kiln/task_1-0")).trim()).toBe(second.commit);
    const path = "/api/v4/projects/acme%2Ftools%2Fwidgets/merge_requests";
    const listQuery = { source_branch: "kiln/task_1-0", state: "opened" };
    const description = "Gears turn the widgets.\n\n- new module\n- new icon";
    expect(forge.requests.map(({ method, path, query, body }) => ({ method, path, query, body }))).toEqual([
      { method: "GET", path, query: listQuery, body: null },
      {
        method: "POST",
        path,
        query: {},
        body: {
          source_branch: "kiln/task_1-0",
          target_branch: "main",
          title: "Draft: Add gears",
          description,
        },
      },
      { method: "GET", path, query: listQuery, body: null },
      { method: "PUT", path: `${path}/1`, query: {}, body: { title: "Add springs", description } },
    ]);
    expect(forge.requests[0]?.headers["private-token"]).toBe(TOKEN);
    expect(forge.pulls.map((p) => [p.number, p.title, p.state, p.draft])).toEqual([
      [1, "Add springs", "opened", false],
    ]);
  });

  it("a wrong forge token fails with publish_failed saying so, pushes nothing and never shows the token", async () => {
    forge = await createFakeForge({ kind: "github", token: "the-right-token" });
    const github = { kind: "github" as const, apiUrl: forge.url, repo: "acme/widgets", token: TOKEN };

    const error = await rejection(publishAttempt(options({ forge: github })));

    expect(error.code).toBe("publish_failed");
    expect(error.message).toBe(
      "GitHub refused the token (HTTP 401: Bad credentials): it is wrong, expired or revoked. Set a valid token as the environment's FORGE_TOKEN secret.",
    );
    expect(JSON.stringify(error.toInfo())).not.toContain(TOKEN);
    expect(await branches()).toEqual(["refs/heads/main"]);
  });

  it("a diff that does not apply fails with patch_invalid, pushes nothing and calls no forge", async () => {
    forge = await createFakeForge({ kind: "github", token: TOKEN });
    const github = { kind: "github" as const, apiUrl: forge.url, repo: "acme/widgets", token: TOKEN };
    const diff = fx.first.diff.replace(" # Widgets", " # Gadgets");
    expect(diff).not.toBe(fx.first.diff);

    const error = await rejection(publishAttempt(options({ forge: github, diff })));

    expect(error.code).toBe("patch_invalid");
    expect(error.message).toMatch(
      /^the attempt's diff does not apply to [0-9a-f]{12}: .*patch failed: README\.md/s,
    );
    expect(await branches()).toEqual(["refs/heads/main"]);
    expect(forge.requests).toEqual([]);
    expect(await readdir(fx.workDir)).toEqual([]);
  });

  it("only fast-forwards a branch outside kiln/, so a second publish to it is refused with a way out", async () => {
    await publishAttempt(options({ branch: "feature/gears" }));
    const error = await rejection(publishAttempt(options({ branch: "feature/gears", diff: fx.second.diff })));

    expect(error.code).toBe("publish_failed");
    expect(error.message).toContain(
      `could not push feature/gears to ${fx.bare} (feature/gears has commits this attempt does not have, and Kiln force-updates only kiln/ branches: publish to a new branch)`,
    );
    expect((await commitInfo("refs/heads/feature/gears")).tree).toBe(fx.first.tree);
  });

  it("a base commit the repository does not have fails with publish_failed", async () => {
    const missing = "0123456789abcdef0123456789abcdef01234567";
    const error = await rejection(publishAttempt(options({ baseCommit: missing })));
    expect(error.toInfo()).toEqual({
      code: "publish_failed",
      message: `the base commit ${missing} is not in ${fx.bare} (it is not on main): was the branch rewritten?`,
      retryable: false,
    });
  });

  it("refuses a repository that names a remote helper instead of a git transport", async () => {
    const marker = join(fx.root, "pwned");
    const error = await rejection(publishAttempt(options({ repository: `ext::sh -c touch% ${marker}` })));
    expect(error.code).toBe("publish_failed");
    expect(error.message).toContain("transport 'ext' not allowed");
    await expect(access(marker)).rejects.toThrow();
  });

  it("stops when the caller aborts, pushing nothing and leaving no scratch files", async () => {
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const apiUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const controller = new AbortController();
    const pending = publishAttempt(
      options({ forge: { kind: "github", apiUrl, repo: "acme/widgets", token: TOKEN } }),
      controller.signal,
    );
    silent.once("request", () => controller.abort(new Error("the user cancelled")));

    await expect(pending).rejects.toThrow("the user cancelled");
    silent.closeAllConnections();
    silent.close();
    expect(await branches()).toEqual(["refs/heads/main"]);
    expect(await readdir(fx.workDir)).toEqual([]);
  });

  it("refuses inputs it cannot publish before touching git", async () => {
    const cases: Array<[Partial<PublishAttemptOptions>, string]> = [
      [{ baseCommit: "main" }, `the base commit must be a full commit id (got "main")`],
      [{ branch: "-delete" }, `"branch": "-delete" is not a valid git branch name`],
      [{ diff: "\n" }, "the attempt changed nothing: there is no diff to publish"],
      [{ title: " " }, "the pull request needs a title"],
    ];
    for (const [overrides, message] of cases) {
      const error = await rejection(publishAttempt(options(overrides)));
      expect([error.code, error.message]).toEqual(["invalid_request", message]);
    }
    expect(await readdir(fx.workDir)).toEqual([]);
  });
});
