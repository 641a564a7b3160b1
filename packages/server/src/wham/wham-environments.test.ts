import {
  Environment,
  KilnError,
  SandboxResource,
  WhamEnvironmentList,
  WhamSandboxResponse,
  WhamSandboxTemplateList,
} from "@kiln/protocol";
import { describe, expect, it } from "vitest";
import {
  environmentsForRepo,
  resolveEnvironmentRef,
  whamEnvironment,
  whamSandbox,
  whamSandboxTemplate,
} from "./wham-environments.ts";
import { kilnId, T0 } from "./wham-test-tasks.ts";

/** An environment, validated against the protocol's schema. */
function env(n: number, fields: Partial<Environment>): Environment {
  return Environment.parse({
    id: kilnId("env", n),
    name: `env-${n}`,
    repository: "/srv/git/scratch",
    branch: "main",
    setupScript: "",
    env: {},
    secretNames: [],
    network: "off",
    setupTimeoutMs: 600_000,
    pinned: false,
    taskCount: 0,
    createdAt: T0,
    updatedAt: T0,
    ...fields,
  });
}

const forged = env(1, {
  name: "my-env",
  repository: "https://github.com/acme/widgets.git",
  pinned: true,
  taskCount: 2,
  forge: { kind: "github", apiUrl: "https://api.github.com", repo: "acme/widgets", hasToken: true },
});
const byUrl = env(2, { repository: "git@github.com:Acme/Gadgets.git", branch: "trunk" });
const onDisk = env(3, { repository: "/srv/git/acme/tools/" });
const onGitlab = env(4, {
  repository: "https://gitlab.example.com/acme/widgets.git",
  forge: {
    kind: "gitlab",
    apiUrl: "https://gitlab.example.com/api/v4",
    repo: "acme/widgets",
    hasToken: false,
  },
});

const thrown = (f: () => unknown): KilnError => {
  try {
    f();
  } catch (error) {
    if (error instanceof KilnError) return error;
    throw error;
  }
  throw new Error("expected a KilnError");
};

describe("WHAM environments", () => {
  it("show name as label, pinned, task count and a repo map keyed by owner/repo", () => {
    const list = WhamEnvironmentList.parse([forged, byUrl, onDisk].map(whamEnvironment));
    expect(list).toEqual([
      {
        id: forged.id,
        label: "my-env",
        is_pinned: true,
        task_count: 2,
        repo_map: {
          "acme/widgets": {
            provider: "github",
            repository_full_name: "acme/widgets",
            repository: "https://github.com/acme/widgets.git",
            default_branch: "main",
          },
        },
      },
      {
        id: byUrl.id,
        label: "env-2",
        is_pinned: false,
        task_count: 0,
        repo_map: {
          "Acme/Gadgets": {
            provider: "github",
            repository_full_name: "Acme/Gadgets",
            repository: "git@github.com:Acme/Gadgets.git",
            default_branch: "trunk",
          },
        },
      },
      {
        id: onDisk.id,
        label: "env-3",
        is_pinned: false,
        task_count: 0,
        repo_map: {
          "/srv/git/acme/tools/": {
            provider: "git",
            repository_full_name: null,
            repository: "/srv/git/acme/tools/",
            default_branch: "main",
          },
        },
      },
    ]);
  });

  it("by repo: match the forge repo or the URL, and a path on disk for any provider", () => {
    const all = [forged, byUrl, onDisk, onGitlab];
    const ids = (provider: string, owner: string, repo: string) =>
      environmentsForRepo(all, { provider, owner, repo }).map((e) => e.id);
    expect(ids("github", "acme", "widgets")).toEqual([forged.id]);
    expect(ids("gitlab", "acme", "widgets")).toEqual([onGitlab.id]);
    expect(ids("github", "acme", "gadgets")).toEqual([byUrl.id]);
    expect(ids("github", "acme", "tools")).toEqual([onDisk.id]);
    expect(ids("azure_devops", "acme", "tools")).toEqual([onDisk.id]);
    expect(ids("github", "acme", "nothing")).toEqual([]);
  });
});

describe("an owner/repo environment_id", () => {
  it("is resolved to the one environment with that repository (forge, URL or path, any case)", () => {
    const all = [forged, byUrl, onDisk];
    expect(resolveEnvironmentRef("acme/widgets", all, "new_task.environment_id")).toBe(forged.id);
    expect(resolveEnvironmentRef("acme/gadgets", all, "new_task.environment_id")).toBe(byUrl.id);
    expect(resolveEnvironmentRef("ACME/tools.git", all, "new_task.environment_id")).toBe(onDisk.id);
  });

  it("is passed through when it is an environment id", () => {
    expect(resolveEnvironmentRef(forged.id, [], "new_task.environment_id")).toBe(forged.id);
  });

  it("is not_found, saying what to do, when no environment has the repository", () => {
    const error = thrown(() => resolveEnvironmentRef("acme/unknown", [forged], "new_task.environment_id"));
    expect(error.toInfo()).toEqual({
      code: "not_found",
      message:
        "no environment has the repository acme/unknown: create one whose repository (or forge repo) is acme/unknown, or pass an environment id",
      retryable: false,
      details: { field: "new_task.environment_id" },
    });
  });

  it("is not_found, naming the candidates, when several environments have the repository", () => {
    const error = thrown(() => resolveEnvironmentRef("acme/widgets", [forged, onGitlab], "environment_id"));
    expect(error.code).toBe("not_found");
    expect(error.message).toBe(
      `2 environments have the repository acme/widgets (${forged.id}, ${onGitlab.id}): pass one of their ids instead`,
    );
    expect(error.details).toEqual({ field: "environment_id", candidates: [forged.id, onGitlab.id] });
  });
});

it("a sandbox and a template are shown with WHAM's names and float-second times", () => {
  const sandbox = SandboxResource.parse({
    id: kilnId("sbx", 1),
    taskId: kilnId("task", 1),
    attemptId: kilnId("att", 0),
    threadId: kilnId("thr", 0),
    state: "running",
    workspace: "/var/lib/kiln/workspaces/att_x",
    network: "off",
    createdAt: T0,
    lastActiveAt: T0 + 2500,
  });
  expect(WhamSandboxResponse.parse({ sandbox: whamSandbox(sandbox) })).toEqual({
    sandbox: {
      id: kilnId("sbx", 1),
      task_id: kilnId("task", 1),
      attempt_id: kilnId("att", 0),
      state: "running",
      network: "off",
      created_at: 1795234760.07,
      last_active_at: 1795234762.57,
    },
  });
  const template = {
    name: "node",
    label: "Node.js",
    description: "npm ci",
    setupScript: "npm ci",
    network: "on" as const,
  };
  expect(WhamSandboxTemplateList.parse({ templates: [whamSandboxTemplate(template)] })).toEqual({
    templates: [
      { id: "node", label: "Node.js", description: "npm ci", setup_script: "npm ci", network: "on" },
    ],
  });
});
