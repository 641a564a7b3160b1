// The pull (merge) request of a published branch, in two steps around the push: before it, find the
// open request whose head is the branch (which also proves the token and repository are right, so a
// bad token fails before anything is pushed); after it, update that request's title and body, or
// create one. Re-publishing an attempt therefore keeps one request, whose number and URL stay.
import { assertNever, KilnError, type PublishedAttempt } from "@kiln/protocol";
import { z } from "zod";
import { type ForgeClient, forgeRequest } from "./forge-request.ts";

/** What the request should say and where it should point. */
export interface PullRequestSpec {
  /** The pushed branch (in the forge's repository). */
  branch: string;
  baseBranch: string;
  title: string;
  body: string;
  draft?: boolean;
}

/** The request as Kiln records it. */
export type PullRequestRef = NonNullable<PublishedAttempt["pullRequest"]>;

const GitHubPull = z.object({ number: z.number(), html_url: z.string(), state: z.string() });
const GitLabMergeRequest = z.object({ iid: z.number(), web_url: z.string(), state: z.string() });

/** The number (GitHub) or iid (GitLab) of the open request from `branch`, if there is one. */
export async function findOpenPullRequest(client: ForgeClient, branch: string): Promise<number | undefined> {
  const { kind } = client.forge;
  switch (kind) {
    case "github": {
      const { owner, path } = githubRepo(client);
      const query = new URLSearchParams({ head: `${owner}:${branch}`, state: "open" });
      const open = parse(
        z.array(GitHubPull),
        await forgeRequest(client, "GET", `${path}?${query}`),
        "GitHub",
      );
      return open[0]?.number;
    }
    case "gitlab": {
      const query = new URLSearchParams({ source_branch: branch, state: "opened" });
      const answer = await forgeRequest(client, "GET", `${gitlabPath(client)}?${query}`);
      return parse(z.array(GitLabMergeRequest), answer, "GitLab")[0]?.iid;
    }
    default:
      return assertNever(kind);
  }
}

/** Updates request `existing`'s title and body, or (when undefined) creates the request of `spec.branch`. */
export async function savePullRequest(
  client: ForgeClient,
  spec: PullRequestSpec,
  existing: number | undefined,
): Promise<PullRequestRef> {
  const { kind } = client.forge;
  switch (kind) {
    case "github": {
      const { path } = githubRepo(client);
      const pull =
        existing === undefined
          ? await forgeRequest(client, "POST", path, {
              title: spec.title,
              head: spec.branch,
              base: spec.baseBranch,
              body: spec.body,
              draft: spec.draft ?? false,
            })
          : await forgeRequest(client, "PATCH", `${path}/${existing}`, {
              title: spec.title,
              body: spec.body,
            });
      const { number, html_url, state } = parse(GitHubPull, pull, "GitHub");
      return { url: html_url, number, state };
    }
    case "gitlab": {
      const path = gitlabPath(client);
      // GitLab marks a draft by its title; its create API has no draft field.
      const title = spec.draft ? `Draft: ${spec.title}` : spec.title;
      const request =
        existing === undefined
          ? await forgeRequest(client, "POST", path, {
              source_branch: spec.branch,
              target_branch: spec.baseBranch,
              title,
              description: spec.body,
            })
          : await forgeRequest(client, "PUT", `${path}/${existing}`, { title, description: spec.body });
      const { iid, web_url, state } = parse(GitLabMergeRequest, request, "GitLab");
      return { url: web_url, number: iid, state };
    }
    default:
      return assertNever(kind);
  }
}

function githubRepo(client: ForgeClient): { owner: string; path: string } {
  const [owner, name, ...rest] = client.forge.repo.split("/");
  if (!owner || !name || rest.length > 0) {
    throw new KilnError(
      "config_invalid",
      `the environment's GitHub repository must be "owner/name" (got "${client.forge.repo}"): fix its forge settings`,
    );
  }
  return { owner, path: `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(name)}/pulls` };
}

/** GitLab takes a project's path, URL-encoded as one segment, as its id. */
function gitlabPath(client: ForgeClient): string {
  return `/projects/${encodeURIComponent(client.forge.repo)}/merge_requests`;
}

function parse<T>(schema: z.ZodType<T>, value: unknown, forge: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new KilnError(
    "publish_failed",
    `${forge} answered with an unexpected shape (${result.error.issues[0]?.message ?? "invalid"}): is the forge's API URL right?`,
  );
}
