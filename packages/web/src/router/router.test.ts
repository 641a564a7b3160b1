// Route matching (params decoded, first match wins) and where a sign-in may send the user back to.
import { describe, expect, it } from "vitest";
import { safeNext } from "../pages/auth/safe-next.ts";
import type { AppRoute } from "../routes.tsx";
import { findRoute } from "./route-view.tsx";
import { matchPath } from "./router.tsx";

/** A page that renders nothing (only the table's order matters here). */
function Page() {
  return null;
}

describe("matchPath", () => {
  it("matches fixed parts exactly and decodes params", () => {
    expect(matchPath("/tasks/:id", "/tasks/task_01%2Fx")).toEqual({ id: "task_01/x" });
    expect(matchPath("/tasks/:id", "/tasks/")).toBeUndefined();
    expect(matchPath("/tasks/:id", "/tasks/a/b")).toBeUndefined();
    expect(matchPath("/tasks", "/tasks/")).toEqual({});
    expect(matchPath("/terminal/:sandboxId", "/terminal/%E0%A4%A")).toBeUndefined();
  });

  it("gives the first route of the table that matches", () => {
    const table: AppRoute[] = [
      { path: "/tasks/new", component: Page, title: "New" },
      { path: "/tasks/:id", component: Page, title: "Task" },
    ];
    expect(findRoute(table, "/tasks/new")?.route.title).toBe("New");
    expect(findRoute(table, "/tasks/task_1")).toEqual({ route: table[1], params: { id: "task_1" } });
    expect(findRoute(table, "/nowhere")).toBeUndefined();
  });
});

describe("safeNext", () => {
  it("returns to a path of the app, never to another site or back to sign-in", () => {
    expect(safeNext("/tasks/task_1?x=1")).toBe("/tasks/task_1?x=1");
    expect(safeNext(null)).toBe("/tasks");
    expect(safeNext("//evil.example/")).toBe("/tasks");
    expect(safeNext("/\\evil.example")).toBe("/tasks");
    expect(safeNext("https://evil.example/")).toBe("/tasks");
    expect(safeNext("/sign-in?next=/x")).toBe("/tasks");
  });
});
