// `/tasks`: start a task, and the caller's tasks, newest first, refreshed every few seconds (one
// cheap list request; a hidden tab does not poll), with a search box and status / environment
// filters kept in the URL so that a filtered list can be shared and survives a reload.
import { TaskStatus } from "@kiln/protocol";
import { useEffect, useState } from "react";
import { useClient } from "../../app-context.tsx";
import { ErrorAlert } from "../../components/error-alert.tsx";
import { usePolled } from "../../lib/use-polled.ts";
import { navigate, useLocation } from "../../router/router.tsx";
import { NewTaskForm } from "./new-task-form.tsx";
import { TaskRow } from "./task-row.tsx";

const POLL_MS = 4000;
const PAGE = 50;

/** The task list page. */
export function TaskListPage() {
  const client = useClient();
  const location = useLocation();
  const params = new URLSearchParams(location.search);
  const status = TaskStatus.safeParse(params.get("status")).data;
  const environmentId = params.get("environment") ?? undefined;
  const archived = params.get("archived") === "1";
  const search = params.get("q") ?? "";
  const [typed, setTyped] = useState(search);
  const [limit, setLimit] = useState(PAGE);

  const setParam = (name: string, value: string | undefined) => {
    const next = new URLSearchParams(location.search);
    if (value === undefined || value === "") next.delete(name);
    else next.set(name, value);
    const query = next.toString();
    navigate(`/tasks${query === "" ? "" : `?${query}`}`, { replace: true });
  };

  // A search changed from outside (a link, the back button) shows in the box.
  useEffect(() => {
    setTyped((current) => (current.trim() === search ? current : search));
  }, [search]);

  // Search as the user types, once they pause.
  // biome-ignore lint/correctness/useExhaustiveDependencies: only typing starts a search
  useEffect(() => {
    if (typed.trim() === search) return;
    const timer = setTimeout(() => setParam("q", typed.trim()), 300);
    return () => clearTimeout(timer);
  }, [typed]);

  const environments = usePolled((signal) => client.environments.list({ signal }), [client]);
  const tasks = usePolled(
    (signal) =>
      client.tasks.list(
        {
          limit,
          ...(status === undefined ? {} : { status }),
          ...(environmentId === undefined ? {} : { environmentId }),
          ...(search === "" ? {} : { search }),
          archived,
        },
        { signal },
      ),
    [client, limit, status, environmentId, search, archived],
    POLL_MS,
  );
  const list = tasks.data?.tasks;
  const filtered = status !== undefined || environmentId !== undefined || search !== "" || archived;

  return (
    <div className="page">
      <h1>Tasks</h1>
      <section className="panel" aria-labelledby="new-task-heading">
        <h2 id="new-task-heading">New task</h2>
        <ErrorAlert error={environments.error} prefix="Could not load the environments" />
        <NewTaskForm environments={environments.data} />
      </section>

      <section aria-labelledby="task-list-heading">
        <div className="section-header">
          <h2 id="task-list-heading">Your tasks</h2>
        </div>
        <search className="filters">
          <label className="filter-search">
            Search tasks
            <input
              type="search"
              value={typed}
              placeholder="Words in titles and prompts"
              onChange={(e) => setTyped(e.target.value)}
            />
          </label>
          <label>
            Status
            <select value={status ?? ""} onChange={(e) => setParam("status", e.target.value)}>
              <option value="">Any</option>
              {TaskStatus.options.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </label>
          <label>
            Environment
            <select value={environmentId ?? ""} onChange={(e) => setParam("environment", e.target.value)}>
              <option value="">Any</option>
              {environments.data?.map((e) => (
                <option key={e.id} value={e.id}>
                  {e.name}
                </option>
              ))}
            </select>
          </label>
          <label className="checkbox">
            <input
              type="checkbox"
              checked={archived}
              onChange={(e) => setParam("archived", e.target.checked ? "1" : undefined)}
            />
            Archived
          </label>
        </search>
        <ErrorAlert error={tasks.error} prefix="Could not load the tasks" />
        {tasks.loading && list === undefined && (
          <p className="loading" role="status">
            Loading tasks…
          </p>
        )}
        {list !== undefined && list.length === 0 && (
          <p className="empty">
            {filtered ? "No task matches these filters." : "No tasks yet: start one above."}
          </p>
        )}
        {list !== undefined && list.length > 0 && (
          <ul className="task-list" aria-label="Tasks">
            {list.map((task) => (
              <TaskRow key={task.id} task={task} />
            ))}
          </ul>
        )}
        {tasks.data?.nextCursor !== undefined && limit < 200 && (
          <button type="button" onClick={() => setLimit((n) => Math.min(200, n + PAGE))}>
            Show more tasks
          </button>
        )}
      </section>
    </div>
  );
}
