// The app's pages: one line per route, matched in order (first match wins; put `/tasks/new` before
// `/tasks/:id`). A route with `nav` gets a link in the navigation. Pages get their path's params.
//
// Adding a page: import it and append ONE line to `routes` below (in the marked section), e.g.
//   { path: "/threads/:id", component: ThreadPage, title: "Thread" },
// For a big page, load it on demand: `component: lazy(() => import("./pages/x/x-page.tsx").then((m) => ({ default: m.XPage })))`.
import type { ComponentType } from "react";
import { SetupPage } from "./pages/auth/setup-page.tsx";
import { SignInPage } from "./pages/auth/sign-in-page.tsx";
import { EnvironmentsPage } from "./pages/environments/environments-page.tsx";
import { RedirectPage } from "./pages/redirect-page.tsx";
import { SettingsPage } from "./pages/settings/settings-page.tsx";
import { NewTaskPage } from "./pages/tasks/new-task-page.tsx";
import { TaskListPage } from "./pages/tasks/task-list-page.tsx";
import { TaskPage } from "./pages/tasks/task-page.tsx";
import { LazyFilesPage, LazyTerminalPage } from "./pages/terminal/lazy-pages.ts";
import { ThreadListPage } from "./pages/threads/thread-list-page.tsx";
import { ThreadPage } from "./pages/threads/thread-page.tsx";
import { UsagePage } from "./pages/usage/usage-page.tsx";

/** What a page component receives. */
export interface PageProps {
  /** The `:name` parts of its path, decoded. */
  params: Readonly<Record<string, string>>;
}

/** One route of the app. */
export interface AppRoute {
  /** A path pattern: `/tasks`, `/tasks/:id`. */
  path: string;
  component: ComponentType<PageProps>;
  /** The document title (after "Kiln · "); default: the nav label. */
  title?: string;
  /** A link in the navigation: its label, and its place (lower first). */
  nav?: { label: string; order: number };
  /** Reachable signed out (sign-in, setup). */
  public?: boolean;
}

/** Every route, matched in order. */
export const routes: AppRoute[] = [
  { path: "/", component: RedirectPage, title: "Tasks" },
  { path: "/sign-in", component: SignInPage, title: "Sign in", public: true },
  { path: "/setup", component: SetupPage, title: "Set up", public: true },
  { path: "/tasks", component: TaskListPage, nav: { label: "Tasks", order: 10 } },
  { path: "/tasks/new", component: NewTaskPage, title: "New task" },
  { path: "/tasks/:id", component: TaskPage, title: "Task" },
  // ── Pages added by other areas: append below this line (threads 20, environments 30, usage 40,
  //    settings 50 in the nav; /terminal/:sandboxId and /files/:sandboxId without nav). ──
  { path: "/threads", component: ThreadListPage, nav: { label: "Threads", order: 20 } },
  { path: "/threads/:id", component: ThreadPage, title: "Thread" },
  { path: "/environments", component: EnvironmentsPage, nav: { label: "Environments", order: 30 } },
  { path: "/usage", component: UsagePage, nav: { label: "Usage", order: 40 } },
  { path: "/settings", component: SettingsPage, nav: { label: "Settings", order: 50 } },
  { path: "/terminal/:sandboxId", component: LazyTerminalPage, title: "Terminal" },
  { path: "/files/:sandboxId", component: LazyFilesPage, title: "Files" },
];
