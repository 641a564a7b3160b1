// Route `/files/:sandboxId?path=…`: browse and edit a sandbox's workspace (loaded on demand: CodeMirror
// is only needed here). `?path=` opens a file at once.
import { useClient } from "../../app-context.tsx";
import { useSearchParams } from "../../router/router.tsx";
import type { PageProps } from "../../routes.tsx";
import { SandboxLinks } from "../terminal/sandbox-links.tsx";
import { FilesView } from "./files-view.tsx";
import { useDarkTheme } from "./use-dark-theme.ts";

/** The files page of sandbox `params.sandboxId`. */
export function FilesPage({ params }: PageProps) {
  const sandboxId = params.sandboxId ?? "";
  const path = useSearchParams().get("path") ?? undefined;
  const dark = useDarkTheme();
  return (
    <div className="page files-page">
      <div className="page-header">
        <h1>Files</h1>
        <SandboxLinks sandboxId={sandboxId} exclude="files" />
      </div>
      <FilesView
        key={sandboxId}
        client={useClient()}
        sandboxId={sandboxId}
        dark={dark}
        {...(path === undefined ? {} : { initialPath: path })}
      />
    </div>
  );
}
