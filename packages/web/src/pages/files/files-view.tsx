// The file browser and editor of a sandbox's workspace: the tree on one side, the open file in
// CodeMirror on the other (stacked on a phone). Save writes the file through the API (Ctrl/Cmd+S too);
// "Unsaved changes" shows while the editor differs from what was last read or saved, and the page
// asks before a change of file or a reload would lose them.
import "./files.css";
import type { KilnClient } from "@kiln/sdk";
import { type FormEvent, useCallback, useEffect, useId, useRef, useState } from "react";
import { errorMessage } from "../../lib/format.ts";
import { CodeEditor } from "./code-editor.tsx";
import { FileTree } from "./file-tree.tsx";
import { languageForPath } from "./language-for-path.ts";
import { parentOf, useDirectoryTree } from "./use-directory-tree.ts";

/** Props of {@link FilesView}. */
export interface FilesViewProps {
  client: KilnClient;
  sandboxId: string;
  /** A file to open at once. */
  initialPath?: string;
  /** Dark editor colours. */
  dark?: boolean;
}

/** The open file. */
type OpenFile =
  | { status: "loading"; path: string }
  | { status: "error"; path: string; message: string }
  | { status: "binary"; path: string; size: number }
  | { status: "text"; path: string; saved: string; draft: string; version: number };

/** Browse, view and edit the files of a sandbox's workspace. */
export function FilesView({ client, sandboxId, initialPath, dark = false }: FilesViewProps) {
  const id = useId();
  const tree = useDirectoryTree(client, sandboxId);
  const [file, setFile] = useState<OpenFile>();
  const [saving, setSaving] = useState(false);
  const [notice, setNotice] = useState<{ kind: "ok" | "error"; text: string }>();
  const [newPath, setNewPath] = useState("");
  const dirty = file?.status === "text" && file.draft !== file.saved;
  const fileRef = useRef(file);
  fileRef.current = file;

  const load = useCallback(
    (path: string, signal?: AbortSignal) => {
      setFile({ status: "loading", path });
      setNotice(undefined);
      client.sandboxes.files.read(sandboxId, path, signal === undefined ? {} : { signal }).then(
        (content) =>
          setFile(
            content.encoding === "utf-8"
              ? { status: "text", path, saved: content.content, draft: content.content, version: Date.now() }
              : { status: "binary", path, size: content.size },
          ),
        (error: unknown) => {
          if (signal?.aborted) return;
          setFile({ status: "error", path, message: errorMessage(error) });
        },
      );
    },
    [client, sandboxId],
  );

  useEffect(() => {
    if (initialPath === undefined || initialPath === "") return;
    const abort = new AbortController();
    load(initialPath, abort.signal);
    return () => abort.abort();
  }, [initialPath, load]);

  const open = (path: string) => {
    if (dirty && !window.confirm(`${file.path} has unsaved changes. Discard them and open ${path}?`)) return;
    load(path);
  };

  const save = useCallback(async () => {
    const current = fileRef.current;
    if (current?.status !== "text" || current.draft === current.saved) return;
    const { path, draft } = current;
    setSaving(true);
    setNotice(undefined);
    try {
      await client.sandboxes.files.write(sandboxId, path, draft);
      // Only what was written counts as saved: typing during the request stays unsaved.
      setFile((f) => (f?.status === "text" && f.path === path ? { ...f, saved: draft } : f));
      setNotice({ kind: "ok", text: `Saved ${path}` });
      tree.refresh(parentOf(path));
    } catch (error) {
      setNotice({ kind: "error", text: `Could not save ${path}: ${errorMessage(error)}` });
    } finally {
      setSaving(false);
    }
  }, [client, sandboxId, tree.refresh]);

  // Ctrl/Cmd+S anywhere on the page (the editor handles it itself and marks the event handled).
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.defaultPrevented || !(event.ctrlKey || event.metaKey) || event.key.toLowerCase() !== "s")
        return;
      event.preventDefault();
      void save();
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [save]);

  useEffect(() => {
    if (!dirty) return;
    const onLeave = (event: BeforeUnloadEvent) => event.preventDefault();
    window.addEventListener("beforeunload", onLeave);
    return () => window.removeEventListener("beforeunload", onLeave);
  }, [dirty]);

  const createFile = async (event: FormEvent) => {
    event.preventDefault();
    const path = newPath.trim().replace(/^\/+/, "");
    if (path === "") return;
    try {
      await client.sandboxes.files.write(sandboxId, path, "");
      setNewPath("");
      tree.refresh(parentOf(path));
      load(path);
    } catch (error) {
      setNotice({ kind: "error", text: `Could not create ${path}: ${errorMessage(error)}` });
    }
  };

  return (
    <div className="files">
      <div className="files-side">
        <FileTree
          listings={tree.listings}
          expanded={tree.expanded}
          selected={file?.path}
          onToggle={tree.toggle}
          onOpen={open}
        />
        <div className="button-row">
          <button type="button" onClick={() => tree.refresh("")}>
            Refresh files
          </button>
        </div>
        <form className="button-row" onSubmit={(e) => void createFile(e)}>
          <label htmlFor={`${id}-new`}>New file</label>
          <input
            id={`${id}-new`}
            value={newPath}
            onChange={(e) => setNewPath(e.target.value)}
            placeholder="src/new-file.ts"
            spellCheck={false}
            autoCapitalize="off"
          />
          <button type="submit" disabled={newPath.trim() === ""}>
            Create
          </button>
        </form>
      </div>
      <section className="files-main" aria-label="Editor">
        {file === undefined && <p className="muted">Choose a file to view or edit it.</p>}
        {file !== undefined && (
          <div className="editor-bar">
            <h2 className="editor-path">{file.path}</h2>
            {file.status === "text" && (
              <>
                <span className="muted">{languageForPath(file.path)?.name ?? "Plain text"}</span>
                <span role="status" className={dirty ? "dirty" : "muted"}>
                  {dirty ? "Unsaved changes" : "Saved"}
                </span>
                <button
                  type="button"
                  onClick={() => void save()}
                  disabled={!dirty || saving}
                  aria-keyshortcuts="Control+S Meta+S"
                >
                  {saving ? "Saving…" : "Save"}
                </button>
              </>
            )}
          </div>
        )}
        {notice !== undefined && (
          <p
            role={notice.kind === "error" ? "alert" : "status"}
            className={notice.kind === "error" ? "error" : "muted"}
          >
            {notice.text}
          </p>
        )}
        {file?.status === "loading" && <p className="muted">Loading…</p>}
        {file?.status === "error" && (
          <p role="alert" className="error">
            {`Could not open ${file.path}: ${file.message}`}
          </p>
        )}
        {file?.status === "binary" && (
          <p>{`${file.path} is a binary file (${file.size} bytes): it cannot be edited here.`}</p>
        )}
        {file?.status === "text" && (
          <CodeEditor
            key={`${file.path}:${file.version}`}
            path={file.path}
            initialContent={file.saved}
            label={`Contents of ${file.path}`}
            dark={dark}
            onChange={(draft) => setFile((f) => (f?.status === "text" ? { ...f, draft } : f))}
            onSave={() => void save()}
          />
        )}
      </section>
    </div>
  );
}
