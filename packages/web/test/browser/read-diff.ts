// Reads a rendered diff table (DiffView) as a person sees it: the lines it adds and removes, each with
// its sign. Tests compare these with what the scripted agent changed.
import type { Locator } from "playwright-core";

/** The changed lines of every diff table inside `scope`, in order: `+text` or `-text`. */
export async function changedLines(scope: Locator): Promise<string[]> {
  return scope.evaluate((element) =>
    [...element.querySelectorAll("table td[data-sign='+'], table td[data-sign='-']")].map(
      (cell) => `${cell.getAttribute("data-sign")}${cell.textContent ?? ""}`,
    ),
  );
}
