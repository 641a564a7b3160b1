// Links to a sandbox's terminal and files, for any page that knows a sandbox (a task attempt has its
// `sandboxId`). A task id works too: it names the task's first attempt's sandbox.
import "./terminal.css";
import { Link } from "../../router/router.tsx";

/** Props of {@link SandboxLinks}. */
export interface SandboxLinksProps {
  sandboxId: string;
  /** Names the sandbox in the links' accessible names, e.g. "attempt 2" (default: none). */
  label?: string;
  /** Leave one link out (the page it would lead to is the current one). */
  exclude?: "terminal" | "files";
}

/** "Terminal" and "Files" links of a sandbox. */
export function SandboxLinks({ sandboxId, label, exclude }: SandboxLinksProps) {
  const of = label === undefined ? "" : ` of ${label}`;
  const id = encodeURIComponent(sandboxId);
  return (
    <span className="sandbox-links">
      {exclude !== "terminal" && (
        <Link to={`/terminal/${id}`} aria-label={`Terminal${of}`}>
          Terminal
        </Link>
      )}
      {exclude !== "files" && (
        <Link to={`/files/${id}`} aria-label={`Files${of}`}>
          Files
        </Link>
      )}
    </span>
  );
}
