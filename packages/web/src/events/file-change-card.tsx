// A patch the agent applied: the files it touched, each with its diff (unified or split).
import type { FileChangeItem } from "@kiln/protocol";
import { memo } from "react";
import { type DiffMode, DiffModeToggle, DiffView, useDiffMode } from "./diff-view.tsx";

/** Props of {@link FileChangeCard}. */
export interface FileChangeCardProps {
  item: FileChangeItem;
  /** The layout to start with (default: the one the user chose last). */
  mode?: DiffMode;
}

const VERB: Record<FileChangeItem["changes"][number]["kind"], string> = {
  add: "added",
  delete: "deleted",
  update: "edited",
};

/** A file-change card with its diffs and a unified/split switch. */
export const FileChangeCard = memo(function FileChangeCard({ item, mode: initial }: FileChangeCardProps) {
  const [mode, setMode] = useDiffMode(initial);
  const diff = item.changes.map((c) => c.diff ?? "").join("");
  const title =
    item.changes.length === 1
      ? `${VERB[item.changes[0]!.kind]} ${item.changes[0]!.path}`
      : `${item.changes.length} files changed`;
  return (
    <article
      className={`event card file-change-card status-${item.status}`}
      aria-label={`File change: ${title}`}
    >
      <header className="card-header">
        <strong>{capitalize(title)}</strong>
        <span className="card-meta">
          {item.status !== "completed" && (
            <span className={`pill pill-${item.status}`}>{item.status.replace("_", " ")}</span>
          )}
          {diff !== "" && <DiffModeToggle mode={mode} onChange={setMode} />}
        </span>
      </header>
      {item.error !== undefined && (
        <p className="error" role="alert">
          {item.error}
        </p>
      )}
      {diff !== "" ? (
        <DiffView diff={diff} mode={mode} />
      ) : (
        <ul className="file-list">
          {item.changes.map((c) => (
            <li key={c.path}>
              {c.path}
              {c.movePath !== undefined && ` → ${c.movePath}`} ({VERB[c.kind]})
            </li>
          ))}
        </ul>
      )}
    </article>
  );
});

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
