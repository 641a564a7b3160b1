// The environments page: the caller's environments (repository, branch, network, secrets by name,
// task count), "New environment", and per environment Edit, Delete and its latest setup log.
import "./environments.css";
import type { Environment, EnvironmentTemplate } from "@kiln/protocol";
import type { CreateEnvironmentInput, KilnClient, UpdateEnvironmentInput } from "@kiln/sdk";
import { useCallback, useEffect, useState } from "react";
import { errorMessage, formatAge } from "../../lib/format.ts";
import { EnvironmentForm } from "./environment-form.tsx";
import { SetupLog } from "./setup-log.tsx";

/** Props of {@link EnvironmentsView}. */
export interface EnvironmentsViewProps {
  client: KilnClient;
}

/** What the form panel shows. */
type Editing = { type: "none" } | { type: "new" } | { type: "edit"; environment: Environment };

/** The environments page. */
export function EnvironmentsView({ client }: EnvironmentsViewProps) {
  const [environments, setEnvironments] = useState<Environment[]>();
  const [templates, setTemplates] = useState<EnvironmentTemplate[]>([]);
  const [editing, setEditing] = useState<Editing>({ type: "none" });
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const [logOf, setLogOf] = useState<string>();

  const reload = useCallback(
    (signal?: AbortSignal) =>
      client.environments.list(signal === undefined ? {} : { signal }).then(
        (list) => {
          setEnvironments(list);
          setError(undefined);
        },
        (e: unknown) => {
          if (!signal?.aborted) setError(errorMessage(e));
        },
      ),
    [client],
  );

  useEffect(() => {
    const abort = new AbortController();
    void reload(abort.signal);
    client.environments.templates({ signal: abort.signal }).then(setTemplates, () => setTemplates([]));
    return () => abort.abort();
  }, [client, reload]);

  const create = async (request: CreateEnvironmentInput) => {
    const created = await client.environments.create(request);
    setEditing({ type: "none" });
    setNotice(`Created ${created.name}.`);
    await reload();
  };

  const update = (environment: Environment) => async (request: UpdateEnvironmentInput) => {
    const saved = await client.environments.update(environment.id, request);
    setEditing({ type: "none" });
    setNotice(`Saved ${saved.name}.`);
    await reload();
  };

  const remove = async (environment: Environment) => {
    if (!window.confirm(`Delete the environment ${environment.name}? Its tasks keep their workspaces.`))
      return;
    try {
      await client.environments.delete(environment.id);
      setNotice(`Deleted ${environment.name}.`);
      await reload();
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  return (
    <div className="page environments-page">
      <div className="page-header">
        <h1>Environments</h1>
        {editing.type === "none" && (
          <button type="button" className="primary" onClick={() => setEditing({ type: "new" })}>
            New environment
          </button>
        )}
      </div>
      {notice !== undefined && (
        <p role="status" className="notice">
          {notice}
        </p>
      )}
      {error !== undefined && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {editing.type === "new" && (
        <EnvironmentForm
          templates={templates}
          onSubmit={create}
          onCancel={() => setEditing({ type: "none" })}
        />
      )}
      {editing.type === "edit" && (
        <EnvironmentForm
          key={editing.environment.id}
          templates={templates}
          environment={editing.environment}
          onSubmit={update(editing.environment)}
          onCancel={() => setEditing({ type: "none" })}
        />
      )}
      {environments === undefined && error === undefined && <p className="muted">Loading…</p>}
      {environments?.length === 0 && editing.type === "none" && (
        <p className="muted">
          No environments yet: a task runs in one (a repository, a branch and a setup script).
        </p>
      )}
      {environments !== undefined && environments.length > 0 && (
        <ul className="environment-list" aria-label="Environments">
          {environments.map((env) => (
            <li key={env.id} className="card environment-card">
              <h2>{env.name}</h2>
              <dl className="facts">
                <div>
                  <dt>Repository</dt>
                  <dd>
                    <code>{env.repository}</code>
                  </dd>
                </div>
                <div>
                  <dt>Branch</dt>
                  <dd>{env.branch}</dd>
                </div>
                <div>
                  <dt>Network</dt>
                  <dd>{env.network === "on" ? "On" : "Off"}</dd>
                </div>
                <div>
                  <dt>Secrets</dt>
                  <dd>{env.secretNames.length === 0 ? "None" : env.secretNames.join(", ")}</dd>
                </div>
                <div>
                  <dt>Tasks</dt>
                  <dd>{env.taskCount}</dd>
                </div>
                <div>
                  <dt>Updated</dt>
                  <dd>{formatAge(env.updatedAt)}</dd>
                </div>
              </dl>
              <div className="button-row">
                <button
                  type="button"
                  aria-label={`Edit ${env.name}`}
                  onClick={() => setEditing({ type: "edit", environment: env })}
                >
                  Edit
                </button>
                <button
                  type="button"
                  aria-expanded={logOf === env.id}
                  aria-label={`Setup log of ${env.name}`}
                  onClick={() => setLogOf((current) => (current === env.id ? undefined : env.id))}
                >
                  Setup log
                </button>
                <button
                  type="button"
                  className="danger"
                  aria-label={`Delete ${env.name}`}
                  onClick={() => void remove(env)}
                >
                  Delete
                </button>
              </div>
              {logOf === env.id && <SetupLog client={client} environmentId={env.id} />}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
