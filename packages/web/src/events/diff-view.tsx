// A unified diff shown file by file (each a collapsible section with its +/− counts), as one column
// (unified) or old | new side by side (split), every line syntax highlighted by its file's language.
// A text that is not a unified diff is shown as it is.
import { memo, useMemo, useState } from "react";
import { highlightCode, languageOfPath } from "./highlight.ts";
import { type DiffFile, type DiffLine, parseDiff, splitRows } from "./parse-diff.ts";

/** How a diff is laid out. */
export type DiffMode = "unified" | "split";

/** Props of {@link DiffView}. */
export interface DiffViewProps {
  /** A unified diff (one file or many). */
  diff: string;
  mode: DiffMode;
  /** Files start collapsed past this many changed lines (default 400). */
  collapseAbove?: number;
}

/** Renders a unified diff, unified or split. */
export const DiffView = memo(function DiffView({ diff, mode, collapseAbove = 400 }: DiffViewProps) {
  const parsed = useMemo(() => {
    try {
      return parseDiff(diff);
    } catch {
      return undefined;
    }
  }, [diff]);
  if (parsed === undefined || (parsed.length === 0 && diff.trim() !== "")) {
    return (
      <figure className="diff-raw-figure" aria-label="Diff">
        <pre className="diff-raw">{diff}</pre>
      </figure>
    );
  }
  if (parsed.length === 0) return <p className="muted">No changes.</p>;
  return (
    <div className="diff-view" data-mode={mode}>
      {parsed.map((file, i) => (
        <DiffFileView
          // biome-ignore lint/suspicious/noArrayIndexKey: a path may appear twice in a diff; files never reorder
          key={`${file.path}:${i}`}
          file={file}
          mode={mode}
          open={file.additions + file.deletions <= collapseAbove}
        />
      ))}
    </div>
  );
});

function DiffFileView({ file, mode, open }: { file: DiffFile; mode: DiffMode; open: boolean }) {
  const language = languageOfPath(file.path);
  const renamed = file.kind === "renamed" ? `${file.oldPath} → ` : "";
  return (
    <details className="diff-file" open={open}>
      <summary>
        <span className="diff-path">
          {renamed}
          {file.path}
        </span>
        <span className={`diff-kind diff-kind-${file.kind}`}>{file.kind}</span>
        <DiffCounts additions={file.additions} deletions={file.deletions} />
      </summary>
      {file.binary ? (
        <p className="muted">Binary file.</p>
      ) : (
        <div className="diff-scroll">
          <table className={`diff diff-${mode}`} aria-label={`Changes to ${file.path} (${mode} view)`}>
            <tbody>
              {file.hunks.map((hunk, h) => (
                <HunkRows
                  // biome-ignore lint/suspicious/noArrayIndexKey: hunks have no id and never reorder
                  key={`${hunk.header}:${h}`}
                  header={hunk.header}
                  lines={hunk.lines}
                  mode={mode}
                  language={language}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </details>
  );
}

function HunkRows(props: {
  header: string;
  lines: DiffLine[];
  mode: DiffMode;
  language: string | undefined;
}) {
  const { header, lines, mode, language } = props;
  return (
    <>
      <tr className="diff-hunk">
        <td colSpan={mode === "split" ? 4 : 3}>{header}</td>
      </tr>
      {mode === "unified"
        ? lines.map((line, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: lines have no id and never reorder
            <tr key={i} className={`diff-line diff-${line.type}`}>
              <td className="diff-num">{line.oldNumber ?? ""}</td>
              <td className="diff-num">{line.newNumber ?? ""}</td>
              <CodeCell line={line} language={language} />
            </tr>
          ))
        : splitRows(lines).map((row, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: rows have no id and never reorder
            <tr key={i} className="diff-line">
              <td className="diff-num">{row.left?.oldNumber ?? ""}</td>
              <CodeCell line={row.left} language={language} />
              <td className="diff-num">{row.right?.newNumber ?? ""}</td>
              <CodeCell line={row.right} language={language} />
            </tr>
          ))}
    </>
  );
}

const SIGN: Record<DiffLine["type"], string> = { add: "+", del: "-", context: " ", note: "" };

function CodeCell(props: { line: DiffLine | undefined; language: string | undefined }) {
  const { line, language } = props;
  if (line === undefined) return <td className="diff-code diff-empty" />;
  const html = highlightCode(line.text, line.type === "note" ? undefined : language);
  return (
    <td className={`diff-code diff-${line.type}`} data-sign={SIGN[line.type]}>
      {/* biome-ignore lint/security/noDangerouslySetInnerHtml: highlight.js escapes the text */}
      <span dangerouslySetInnerHTML={{ __html: html }} />
    </td>
  );
}

/** `+12 −3`, read out as words. */
export function DiffCounts({ additions, deletions }: { additions: number; deletions: number }) {
  return (
    <span className="diff-counts">
      <span aria-hidden="true">
        <span className="added">+{additions}</span> <span className="removed">−{deletions}</span>
      </span>
      <span className="sr-only">
        {lines(additions)} added, {lines(deletions)} removed
      </span>
    </span>
  );
}

function lines(count: number): string {
  return `${count} ${count === 1 ? "line" : "lines"}`;
}

const MODE_KEY = "kiln.diffMode";

/** The diff layout the user chose last (kept in localStorage), and a setter. */
export function useDiffMode(initial?: DiffMode): [DiffMode, (mode: DiffMode) => void] {
  const [mode, setMode] = useState<DiffMode>(() => {
    if (initial !== undefined) return initial;
    const saved = safeStorage()?.getItem(MODE_KEY);
    return saved === "split" ? "split" : "unified";
  });
  const choose = (next: DiffMode) => {
    setMode(next);
    safeStorage()?.setItem(MODE_KEY, next);
  };
  return [mode, choose];
}

/** Two buttons that switch a diff between unified and split. */
export function DiffModeToggle({ mode, onChange }: { mode: DiffMode; onChange: (mode: DiffMode) => void }) {
  return (
    // biome-ignore lint/a11y/useSemanticElements: a group of two toggle buttons, not a fieldset of inputs
    <div className="segmented" role="group" aria-label="Diff layout">
      <button type="button" aria-pressed={mode === "unified"} onClick={() => onChange("unified")}>
        Unified
      </button>
      <button type="button" aria-pressed={mode === "split"} onClick={() => onChange("split")}>
        Split
      </button>
    </div>
  );
}

function safeStorage(): Storage | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined;
  }
}
