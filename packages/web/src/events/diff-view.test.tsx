// @vitest-environment happy-dom
// Diffs: parsed into numbered lines, shown unified or split (deletions paired with additions),
// syntax highlighted; a file-change card switches between the two layouts.
import type { FileChangeItem } from "@kiln/protocol";
import { cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DiffView } from "./diff-view.tsx";
import { FileChangeCard } from "./file-change-card.tsx";
import { parseDiff, splitRows } from "./parse-diff.ts";

afterEach(cleanup);
beforeEach(() => localStorage.clear());

const DIFF = `diff --git a/src/add.ts b/src/add.ts
index 1111111..2222222 100644
--- a/src/add.ts
+++ b/src/add.ts
@@ -1,4 +1,4 @@
 // adds two numbers
 export function add(a: number, b: number) {
-  return a - b;
+  return a + b;
 }
diff --git a/NOTES.md b/NOTES.md
new file mode 100644
--- /dev/null
+++ b/NOTES.md
@@ -0,0 +1,2 @@
+# Notes
+Fixed add.
`;

/** The text of each row's cells, as a person reads the table. */
function rowsOf(table: HTMLElement): string[][] {
  return [...table.querySelectorAll("tr")].map((tr) =>
    [...tr.querySelectorAll("td")].map((td) => td.textContent ?? ""),
  );
}

describe("parseDiff", () => {
  it("gives each file with its kind, counts and numbered lines", () => {
    const files = parseDiff(DIFF);
    expect(
      files.map((f) => ({ path: f.path, kind: f.kind, additions: f.additions, deletions: f.deletions })),
    ).toEqual([
      { path: "src/add.ts", kind: "modified", additions: 1, deletions: 1 },
      { path: "NOTES.md", kind: "added", additions: 2, deletions: 0 },
    ]);
    expect(files[0]!.hunks[0]!.lines[2]).toEqual({
      type: "del",
      text: "  return a - b;",
      oldNumber: 3,
      newNumber: undefined,
    });
    expect(files[0]!.hunks[0]!.lines[3]).toEqual({
      type: "add",
      text: "  return a + b;",
      oldNumber: undefined,
      newNumber: 3,
    });
  });

  it("pairs a run of deletions with the additions after it for the split view", () => {
    const rows = splitRows(parseDiff(DIFF)[0]!.hunks[0]!.lines);
    expect(rows.map((r) => [r.left?.text, r.right?.text])).toEqual([
      ["// adds two numbers", "// adds two numbers"],
      ["export function add(a: number, b: number) {", "export function add(a: number, b: number) {"],
      ["  return a - b;", "  return a + b;"],
      ["}", "}"],
    ]);
  });
});

describe("DiffView", () => {
  it("shows the unified view: one column with old and new line numbers", () => {
    render(<DiffView diff={DIFF} mode="unified" />);
    const table = screen.getByRole("table", { name: "Changes to src/add.ts (unified view)" });
    expect(rowsOf(table)).toEqual([
      ["@@ -1,4 +1,4 @@"],
      ["1", "1", "// adds two numbers"],
      ["2", "2", "export function add(a: number, b: number) {"],
      ["3", "", "  return a - b;"],
      ["", "3", "  return a + b;"],
      ["4", "4", "}"],
    ]);
    expect(screen.getByRole("table", { name: "Changes to NOTES.md (unified view)" })).toBeTruthy();
    expect(screen.getByText("1 line added, 1 line removed")).toBeTruthy();
    expect(screen.getByText("2 lines added, 0 lines removed")).toBeTruthy();
  });

  it("shows the split view: old and new side by side, highlighted for the file's language", () => {
    render(<DiffView diff={DIFF} mode="split" />);
    const table = screen.getByRole("table", { name: "Changes to src/add.ts (split view)" });
    expect(rowsOf(table)[3]).toEqual(["3", "  return a - b;", "3", "  return a + b;"]);
    // highlight.js marked up the TypeScript keywords.
    expect(table.querySelector(".hljs-keyword")?.textContent).toBe("export");
    const del = table.querySelectorAll("tr")[3]!.querySelectorAll("td.diff-del, td.diff-add");
    expect([...del].map((td) => td.className)).toEqual(["diff-code diff-del", "diff-code diff-add"]);
  });

  it("shows a text that is not a unified diff as it is", () => {
    render(<DiffView diff={"the agent said: nothing to change\n"} mode="unified" />);
    expect(screen.getByLabelText("Diff").textContent).toBe("the agent said: nothing to change\n");
    cleanup();
    render(<DiffView diff="" mode="unified" />);
    expect(screen.getByText("No changes.")).toBeTruthy();
  });
});

describe("FileChangeCard", () => {
  const item: FileChangeItem = {
    id: "fc_1",
    type: "fileChange",
    status: "completed",
    changes: [{ path: "src/add.ts", kind: "update", diff: DIFF.split("diff --git a/NOTES.md")[0] }],
  };

  it("switches between the unified and the split diff and remembers the choice", () => {
    render(<FileChangeCard item={item} />);
    const card = screen.getByRole("article", { name: "File change: edited src/add.ts" });
    expect(within(card).getByRole("table", { name: "Changes to src/add.ts (unified view)" })).toBeTruthy();
    const split = within(card).getByRole("button", { name: "Split" });
    expect(split.getAttribute("aria-pressed")).toBe("false");
    fireEvent.click(split);
    expect(split.getAttribute("aria-pressed")).toBe("true");
    expect(within(card).getByRole("table", { name: "Changes to src/add.ts (split view)" })).toBeTruthy();
    expect(localStorage.getItem("kiln.diffMode")).toBe("split");
  });
});
