// The chat threads (seed 003): newest first, with their status, model and age, a search box, archived
// ones on request, "Load more" for older pages, and "New thread", which opens the configuration
// dialog and, once the server has made the thread, opens it. The list refreshes itself every few
// seconds while the tab is visible (there is no event stream of the thread list).
import "./threads.css";
import type { CreateThreadRequest, Environment, ThreadResource } from "@kiln/protocol";
import type { KilnClient } from "@kiln/sdk";
import { type FormEvent, useCallback, useEffect, useState } from "react";
import { errorMessage, formatAge } from "../../lib/format.ts";
import { Link } from "../../router/router.tsx";
import { ThreadConfigDialog } from "./thread-config-dialog.tsx";

/** Props of {@link ThreadListView}. */
export interface ThreadListViewProps {
  client: KilnClient;
  /** Goes to an app path (e.g. `/threads/thr_…`). */
  navigate: (path: string) => void;
}

const PAGE = 50;
const REFRESH_MS = 10_000;

const STATUS_TEXT: Record<ThreadResource["status"], string> = {
  idle: "Idle",
  running: "Running",
  waitingForApproval: "Waiting for approval",
};

/** The thread list page. */
export function ThreadListView({ client, navigate }: ThreadListViewProps) {
  const [threads, setThreads] = useState<ThreadResource[]>();
  const [nextCursor, setNextCursor] = useState<string>();
  const [query, setQuery] = useState("");
  const [search, setSearch] = useState("");
  const [archived, setArchived] = useState(false);
  const [error, setError] = useState<string>();
  const [dialogOpen, setDialogOpen] = useState(false);
  const [environments, setEnvironments] = useState<Environment[]>([]);
  const [tick, setTick] = useState(0);

  // The first page, again on every change of filter and every refresh tick (`tick` is read inside).
  useEffect(() => {
    const abort = new AbortController();
    client.threads
      .list({ limit: PAGE, archived, ...(search === "" ? {} : { search }) }, { signal: abort.signal })
      .then(
        (page) => {
          // Keep older pages already loaded: replace only what the first page covers.
          setThreads((current) => mergeFirstPage(current, page.threads, tick > 0));
          setNextCursor((c) => (tick > 0 && c !== undefined ? c : page.nextCursor));
          setError(undefined);
        },
        (e: unknown) => {
          if (!abort.signal.aborted) setError(errorMessage(e));
        },
      );
    return () => abort.abort();
  }, [client, archived, search, tick]);

  useEffect(() => {
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") setTick((t) => t + 1);
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, []);

  const loadMore = async () => {
    if (nextCursor === undefined) return;
    try {
      const page = await client.threads.list({
        limit: PAGE,
        archived,
        cursor: nextCursor,
        ...(search === "" ? {} : { search }),
      });
      setThreads((current) => [
        ...(current ?? []),
        ...page.threads.filter((t) => !current?.some((c) => c.id === t.id)),
      ]);
      setNextCursor(page.nextCursor);
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  const openDialog = () => {
    setDialogOpen(true);
    client.environments.list().then(setEnvironments, () => setEnvironments([]));
  };

  const create = useCallback(
    async (request: CreateThreadRequest) => {
      const thread = await client.threads.start(request);
      setDialogOpen(false);
      navigate(`/threads/${thread.id}`);
    },
    [client, navigate],
  );

  const setArchivedOf = async (thread: ThreadResource, value: boolean) => {
    try {
      await client.threads.update(thread.id, { archived: value });
      setThreads((current) => current?.filter((t) => t.id !== thread.id));
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  const onSearch = (event: FormEvent) => {
    event.preventDefault();
    setThreads(undefined);
    setTick(0);
    setSearch(query.trim());
  };

  return (
    <div className="page thread-list-page">
      <div className="page-header">
        <h1>Threads</h1>
        <button type="button" className="primary" onClick={openDialog}>
          New thread
        </button>
      </div>
      <search>
        <form className="filters thread-filters" onSubmit={onSearch}>
          <label>
            Search threads
            <input
              type="search"
              value={query}
              placeholder="Words in titles"
              onChange={(e) => setQuery(e.target.value)}
            />
          </label>
          <label className="inline">
            <input
              type="checkbox"
              checked={archived}
              onChange={(e) => {
                setThreads(undefined);
                setTick(0);
                setArchived(e.target.checked);
              }}
            />
            Archived
          </label>
          <button type="submit">Search</button>
        </form>
      </search>
      {error !== undefined && (
        <p role="alert" className="error">
          {`Could not load the threads: ${error}`}
        </p>
      )}
      {threads === undefined && error === undefined && <p className="muted">Loading…</p>}
      {threads !== undefined && threads.length === 0 && (
        <p className="muted">
          {search !== ""
            ? `No thread matches “${search}”.`
            : archived
              ? "No archived threads."
              : "No threads yet: start one with New thread."}
        </p>
      )}
      {threads !== undefined && threads.length > 0 && (
        <ul className="thread-list" aria-label="Threads">
          {threads.map((thread) => (
            <li key={thread.id} className="thread-row">
              <Link to={`/threads/${thread.id}`}>
                {thread.title === "" ? (thread.info.preview ?? "New thread") : thread.title}
              </Link>
              <span className={`pill pill-${thread.status}`}>{STATUS_TEXT[thread.status]}</span>
              <span className="muted">{thread.info.model}</span>
              <span className="muted">{formatAge(thread.updatedAt)}</span>
              <button
                type="button"
                aria-label={`${thread.archived ? "Unarchive" : "Archive"} ${thread.title || thread.id}`}
                onClick={() => void setArchivedOf(thread, !thread.archived)}
              >
                {thread.archived ? "Unarchive" : "Archive"}
              </button>
            </li>
          ))}
        </ul>
      )}
      {nextCursor !== undefined && (
        <button type="button" onClick={() => void loadMore()}>
          Load more
        </button>
      )}
      <ThreadConfigDialog
        open={dialogOpen}
        environments={environments}
        onSubmit={create}
        onClose={() => setDialogOpen(false)}
      />
    </div>
  );
}

/** The list after a fresh first page: its threads first, then older ones loaded before that it does not cover. */
function mergeFirstPage(
  current: readonly ThreadResource[] | undefined,
  first: readonly ThreadResource[],
  keepOlder: boolean,
): ThreadResource[] {
  if (!keepOlder || current === undefined) return [...first];
  const ids = new Set(first.map((t) => t.id));
  const oldest = first[first.length - 1]?.updatedAt ?? Number.POSITIVE_INFINITY;
  return [...first, ...current.filter((t) => !ids.has(t.id) && t.updatedAt < oldest)];
}
