// CodeMirror 6 in React: one EditorView per mounted editor, made again when the file changes (a new
// document, language and history); edits are reported up so that the page can tell whether there are
// unsaved changes, and Mod-s (Ctrl+S, or Cmd+S on a Mac) saves.
import { defaultHighlightStyle, syntaxHighlighting } from "@codemirror/language";
import { EditorState, type Extension } from "@codemirror/state";
import { oneDark } from "@codemirror/theme-one-dark";
import {
  drawSelection,
  EditorView,
  highlightActiveLine,
  highlightActiveLineGutter,
  keymap,
  lineNumbers,
} from "@codemirror/view";
import { useEffect, useRef } from "react";
import { languageForPath } from "./language-for-path.ts";

/** Props of {@link CodeEditor}. */
export interface CodeEditorProps {
  /** The file's path (picks the language; a new path is a new editor). */
  path: string;
  /** The content to start from. */
  initialContent: string;
  readOnly?: boolean;
  /** The accessible name of the editing area, e.g. "Contents of src/app.ts". */
  label: string;
  onChange: (content: string) => void;
  /** Mod-s in the editor. */
  onSave: () => void;
  /** Dark colours (else light). */
  dark?: boolean;
}

/** A code editor for one file. */
export function CodeEditor({
  path,
  initialContent,
  readOnly = false,
  label,
  onChange,
  onSave,
  dark = false,
}: CodeEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  // The latest callbacks, read by the editor's handlers (which are made once per file).
  const callbacks = useRef({ onChange, onSave });
  callbacks.current = { onChange, onSave };

  // The editor is made once per file: later content comes from the person typing, not from props.
  // biome-ignore lint/correctness/useExhaustiveDependencies: initialContent and label are read at creation
  useEffect(() => {
    const parent = host.current;
    if (parent === null) return;
    const language = languageForPath(path);
    const extensions: Extension[] = [
      lineNumbers(),
      highlightActiveLineGutter(),
      highlightActiveLine(),
      drawSelection(),
      dark ? oneDark : syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
      EditorState.readOnly.of(readOnly),
      EditorView.editable.of(!readOnly),
      EditorView.contentAttributes.of({ "aria-label": label }),
      keymap.of([
        {
          key: "Mod-s",
          preventDefault: true,
          run: () => {
            callbacks.current.onSave();
            return true;
          },
        },
      ]),
      EditorView.updateListener.of((update) => {
        if (update.docChanged) callbacks.current.onChange(update.state.doc.toString());
      }),
      language === undefined ? [] : language.extension(),
    ];
    const view = new EditorView({ parent, state: EditorState.create({ doc: initialContent, extensions }) });
    return () => view.destroy();
  }, [path, readOnly, dark]);

  return <div ref={host} className="code-editor" />;
}
