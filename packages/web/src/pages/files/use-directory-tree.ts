// The file browser's tree: directories are listed on demand (when first expanded), kept until
// refreshed, and shown directories first, then files, by name.
import type { KilnClient, SandboxFileEntry } from "@kiln/sdk";
import { useCallback, useEffect, useRef, useState } from "react";
import { errorMessage } from "../../lib/format.ts";

/** A directory's listing, as far as it is known. */
export type Listing =
  | { status: "loading" }
  | { status: "loaded"; entries: SandboxFileEntry[] }
  | { status: "error"; message: string };

/** What {@link useDirectoryTree} gives. */
export interface DirectoryTree {
  /** Listings by directory path (`""` is the workspace root). */
  listings: Readonly<Record<string, Listing>>;
  /** The expanded directories (the root always is). */
  expanded: ReadonlySet<string>;
  /** Expands a directory (listing it the first time) or collapses it. */
  toggle: (path: string) => void;
  /** Lists a directory again (after a save created a file, or to see the agent's changes). */
  refresh: (path: string) => void;
}

/** Directories first, then the rest, each by name. */
export function sortEntries(entries: readonly SandboxFileEntry[]): SandboxFileEntry[] {
  return [...entries].sort((a, b) => {
    const dir = Number(b.type === "directory") - Number(a.type === "directory");
    return dir !== 0 ? dir : a.name.localeCompare(b.name);
  });
}

/** The parent directory of a workspace path (`""` for the root's entries). */
export function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash === -1 ? "" : path.slice(0, slash);
}

/** The tree of sandbox `sandboxId`'s workspace. */
export function useDirectoryTree(client: KilnClient, sandboxId: string): DirectoryTree {
  const [listings, setListings] = useState<Record<string, Listing>>({});
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set([""]));
  const abort = useRef(new AbortController());
  // Directories asked for already (state updates are async: a double click must not list twice).
  const requested = useRef(new Set<string>());

  const load = useCallback(
    (path: string) => {
      requested.current.add(path);
      setListings((l) => ({ ...l, [path]: { status: "loading" } }));
      const { signal } = abort.current;
      client.sandboxes.files.list(sandboxId, path, { signal }).then(
        (listing) =>
          setListings((l) => ({ ...l, [path]: { status: "loaded", entries: sortEntries(listing.entries) } })),
        (error: unknown) => {
          if (signal.aborted) return;
          const message = errorMessage(error);
          setListings((l) => ({ ...l, [path]: { status: "error", message } }));
        },
      );
    },
    [client, sandboxId],
  );

  useEffect(() => {
    abort.current = new AbortController();
    requested.current = new Set();
    setListings({});
    setExpanded(new Set([""]));
    load("");
    return () => abort.current.abort();
  }, [load]);

  const toggle = useCallback(
    (path: string) => {
      setExpanded((current) => {
        const next = new Set(current);
        if (next.has(path)) next.delete(path);
        else next.add(path);
        return next;
      });
      if (!requested.current.has(path)) load(path);
    },
    [load],
  );

  return { listings, expanded, toggle, refresh: load };
}
