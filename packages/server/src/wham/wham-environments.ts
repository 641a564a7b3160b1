// Kiln environments, templates and sandboxes → WHAM, and WHAM's `owner/repo` environment references →
// Kiln environment ids. An environment "has" the repository `owner/repo` when its forge repo is that
// (ignoring case), or when its repository URL or server path ends in `owner/repo` (`.git` optional).
import {
  type Environment,
  type EnvironmentTemplate,
  KilnError,
  type SandboxResource,
  type WhamEnvironment,
  type WhamSandbox,
  type WhamSandboxTemplate,
} from "@kiln/protocol";
import { whamTime } from "./wham-mapping.ts";

/** A repository string without surrounding blanks, trailing slashes and `.git`, in lower case. */
function normalizeRepo(value: string): string {
  return value
    .trim()
    .replace(/\/+$/, "")
    .replace(/\.git$/i, "")
    .replace(/^\/+/, "")
    .toLowerCase();
}

/** The host and path of a git URL (`https://h/p`, `ssh://git@h/p`, scp-like `git@h:p`); none for a path. */
function urlParts(repository: string): { host: string; path: string } | undefined {
  const trimmed = repository.trim();
  const url = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/]*@)?([^/:]+)(?::\d+)?\/(.+)$/i.exec(trimmed);
  if (url?.[1] !== undefined && url[2] !== undefined) return { host: url[1].toLowerCase(), path: url[2] };
  const scp = /^(?:[^@/]+@)?([^/:]+):(?!\/)(.+)$/.exec(trimmed);
  if (scp?.[1] !== undefined && scp[2] !== undefined) return { host: scp[1].toLowerCase(), path: scp[2] };
  return undefined;
}

/** Where the environment's repository is hosted: its forge, else a guess from the URL's host. */
export function repoProvider(env: Environment): string {
  if (env.forge !== undefined) return env.forge.kind;
  const host = urlParts(env.repository)?.host;
  if (host === "github.com") return "github";
  if (host !== undefined && /(^|\.)gitlab\./.test(host)) return "gitlab";
  return "git";
}

/** `owner/repo` of the environment's repository: the forge repo, else the URL's path; null for a path on disk. */
export function repoFullName(env: Environment): string | null {
  if (env.forge !== undefined) return env.forge.repo;
  const path = urlParts(env.repository)?.path;
  if (path === undefined) return null;
  const name = path
    .replace(/\/+$/, "")
    .replace(/\.git$/i, "")
    .replace(/^\/+/, "");
  return name.includes("/") ? name : null;
}

/** One environment as WHAM lists it. */
export function whamEnvironment(env: Environment): WhamEnvironment {
  const fullName = repoFullName(env);
  return {
    id: env.id,
    label: env.name,
    is_pinned: env.pinned,
    task_count: env.taskCount,
    repo_map: {
      [fullName ?? env.repository]: {
        provider: repoProvider(env),
        repository_full_name: fullName,
        repository: env.repository,
        default_branch: env.branch,
      },
    },
  };
}

/** Whether the environment's repository is `ownerRepo` (by forge repo, or by URL/path suffix). */
export function environmentHasRepo(env: Environment, ownerRepo: string): boolean {
  const wanted = normalizeRepo(ownerRepo);
  if (wanted === "") return false;
  if (env.forge !== undefined && normalizeRepo(env.forge.repo) === wanted) return true;
  const repository = normalizeRepo(env.repository);
  return repository === wanted || repository.endsWith(`/${wanted}`) || repository.endsWith(`:${wanted}`);
}

/**
 * The environments of `GET /environments/by-repo/{provider}/{owner}/{repo}`. The provider must match
 * where the repository is hosted, unless Kiln cannot tell (a plain git server or a path on disk).
 */
export function environmentsForRepo(
  envs: readonly Environment[],
  repo: { provider: string; owner: string; repo: string },
): Environment[] {
  const provider = repo.provider.toLowerCase();
  return envs.filter((env) => {
    const hostedOn = repoProvider(env);
    return (
      (hostedOn === "git" || hostedOn === provider) && environmentHasRepo(env, `${repo.owner}/${repo.repo}`)
    );
  });
}

/**
 * The environment id a WHAM `environment_id` names: itself, or — for an `owner/repo` string — the
 * one environment with that repository. None or several → `not_found` saying what to do.
 */
export function resolveEnvironmentRef(ref: string, envs: readonly Environment[], field: string): string {
  if (!ref.includes("/")) return ref;
  const matches = envs.filter((env) => environmentHasRepo(env, ref));
  const only = matches[0];
  if (matches.length === 1 && only !== undefined) return only.id;
  if (matches.length === 0) {
    throw new KilnError(
      "not_found",
      `no environment has the repository ${ref}: create one whose repository (or forge repo) is ${ref}, or pass an environment id`,
      { details: { field } },
    );
  }
  throw new KilnError(
    "not_found",
    `${matches.length} environments have the repository ${ref} (${matches.map((e) => e.id).join(", ")}): pass one of their ids instead`,
    { details: { field, candidates: matches.map((e) => e.id) } },
  );
}

/** A built-in environment template as `GET /sandbox/templates` lists it. */
export function whamSandboxTemplate(template: EnvironmentTemplate): WhamSandboxTemplate {
  return {
    id: template.name,
    label: template.label,
    description: template.description,
    setup_script: template.setupScript,
    network: template.network,
  };
}

/** A task attempt's sandbox (its workspace path on the server is not shown). */
export function whamSandbox(sandbox: SandboxResource): WhamSandbox {
  return {
    id: sandbox.id,
    task_id: sandbox.taskId ?? null,
    attempt_id: sandbox.attemptId ?? null,
    state: sandbox.state,
    network: sandbox.network,
    created_at: whamTime(sandbox.createdAt),
    last_active_at: whamTime(sandbox.lastActiveAt),
  };
}
