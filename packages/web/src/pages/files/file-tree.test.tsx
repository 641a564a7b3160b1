// @vitest-environment happy-dom
// The file tree: directories first, expandable with their state announced, files open on click, the
// open file marked current, and a listing that failed says why.
import type { SandboxFileEntry } from "@kiln/sdk";
import { cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { FileTree } from "./file-tree.tsx";
import { sortEntries } from "./use-directory-tree.ts";

afterEach(cleanup);

const entry = (path: string, type: SandboxFileEntry["type"]): SandboxFileEntry => ({
  name: path.slice(path.lastIndexOf("/") + 1),
  path,
  type,
  size: 10,
  modifiedAt: 0,
});

const root = sortEntries([
  entry("README.md", "file"),
  entry("src", "directory"),
  entry("link", "symlink"),
  entry("docs", "directory"),
]);

describe("FileTree", () => {
  it("lists directories first, expands them, and opens files", () => {
    const toggled: string[] = [];
    const opened: string[] = [];
    const { rerender } = render(
      <FileTree
        listings={{ "": { status: "loaded", entries: root } }}
        expanded={new Set([""])}
        selected={undefined}
        onToggle={(p) => toggled.push(p)}
        onOpen={(p) => opened.push(p)}
      />,
    );
    const nav = screen.getByRole("navigation", { name: "Workspace files" });
    expect(
      within(nav)
        .getAllByRole("button")
        .map((b) => b.textContent),
    ).toEqual(["▸ docs/", "▸ src/", "link (symbolic link)", "README.md"]);
    fireEvent.click(screen.getByRole("button", { name: "src/" }));
    fireEvent.click(screen.getByRole("button", { name: "README.md" }));
    expect(toggled).toEqual(["src"]);
    expect(opened).toEqual(["README.md"]);

    rerender(
      <FileTree
        listings={{
          "": { status: "loaded", entries: root },
          src: { status: "loaded", entries: [entry("src/app.ts", "file")] },
        }}
        expanded={new Set(["", "src"])}
        selected="src/app.ts"
        onToggle={() => undefined}
        onOpen={() => undefined}
      />,
    );
    expect(screen.getByRole("button", { name: "src/" }).getAttribute("aria-expanded")).toBe("true");
    expect(screen.getByRole("button", { name: "app.ts" }).getAttribute("aria-current")).toBe("true");
    expect((screen.getByRole("button", { name: "link (symbolic link)" }) as HTMLButtonElement).disabled).toBe(
      true,
    );
  });

  it("says why a directory could not be listed", () => {
    render(
      <FileTree
        listings={{ "": { status: "error", message: "no sandbox sbx_1" } }}
        expanded={new Set([""])}
        selected={undefined}
        onToggle={() => undefined}
        onOpen={() => undefined}
      />,
    );
    expect(screen.getByRole("alert").textContent).toBe("Could not list the workspace: no sandbox sbx_1");
  });
});
