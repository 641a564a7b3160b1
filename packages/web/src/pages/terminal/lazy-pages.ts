// The terminal and files pages, loaded on demand: xterm.js and CodeMirror are big and only these
// pages need them, so they are chunks of their own that the rest of the app never waits for.
import { lazy } from "react";

/** `/terminal/:sandboxId`, loaded when first shown. */
export const LazyTerminalPage = lazy(() =>
  import("./terminal-page.tsx").then((m) => ({ default: m.TerminalPage })),
);

/** `/files/:sandboxId`, loaded when first shown. */
export const LazyFilesPage = lazy(() =>
  import("../files/files-page.tsx").then((m) => ({ default: m.FilesPage })),
);
