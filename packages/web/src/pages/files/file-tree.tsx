// The workspace's files as nested lists of buttons (a disclosure per directory): every entry is
// reachable with Tab, Enter/Space opens a file or expands a directory, and the open file is marked
// `aria-current`.
import type { SandboxFileEntry } from "@kiln/sdk";
import type { Listing } from "./use-directory-tree.ts";

/** Props of {@link FileTree}. */
export interface FileTreeProps {
  listings: Readonly<Record<string, Listing>>;
  expanded: ReadonlySet<string>;
  /** The open file. */
  selected: string | undefined;
  onToggle: (path: string) => void;
  onOpen: (path: string) => void;
}

/** The file tree, from the workspace root. */
export function FileTree(props: FileTreeProps) {
  return (
    <nav className="file-tree" aria-label="Workspace files">
      <DirectoryContents path="" depth={0} {...props} />
    </nav>
  );
}

function DirectoryContents(props: FileTreeProps & { path: string; depth: number }) {
  const listing = props.listings[props.path];
  if (listing === undefined || listing.status === "loading") {
    return <p className="muted">Loading…</p>;
  }
  if (listing.status === "error") {
    return (
      <p role="alert" className="error">
        {`Could not list ${props.path === "" ? "the workspace" : props.path}: ${listing.message}`}
      </p>
    );
  }
  if (listing.entries.length === 0) return <p className="muted">(empty)</p>;
  return (
    <ul>
      {listing.entries.map((entry) => (
        <EntryRow key={entry.path} {...treeProps(props)} entry={entry} depth={props.depth} />
      ))}
    </ul>
  );
}

function EntryRow(props: FileTreeProps & { entry: SandboxFileEntry; depth: number }) {
  const { entry, expanded, selected, onToggle, onOpen, depth } = props;
  if (entry.type === "directory") {
    const open = expanded.has(entry.path);
    return (
      <li>
        <button
          type="button"
          className="tree-entry"
          aria-expanded={open}
          onClick={() => onToggle(entry.path)}
          style={{ paddingInlineStart: `${depth * 0.9 + 0.3}rem` }}
        >
          <span aria-hidden="true">{open ? "▾ " : "▸ "}</span>
          {`${entry.name}/`}
        </button>
        {open && <DirectoryContents {...treeProps(props)} path={entry.path} depth={depth + 1} />}
      </li>
    );
  }
  const openable = entry.type === "file";
  return (
    <li>
      <button
        type="button"
        className="tree-entry"
        aria-current={selected === entry.path ? "true" : undefined}
        disabled={!openable}
        title={openable ? undefined : `${entry.type}: cannot be opened here`}
        onClick={() => onOpen(entry.path)}
        style={{ paddingInlineStart: `${depth * 0.9 + 1.2}rem` }}
      >
        {entry.name}
        {entry.type === "symlink" && <span className="sr-only"> (symbolic link)</span>}
      </button>
    </li>
  );
}

/** The props every level passes down (and nothing of its own: a row's entry must not leak into its children). */
function treeProps(props: FileTreeProps): FileTreeProps {
  const { listings, expanded, selected, onToggle, onOpen } = props;
  return { listings, expanded, selected, onToggle, onOpen };
}
