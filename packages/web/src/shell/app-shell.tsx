// The frame around every signed-in page: a skip link, the header (brand, navigation from the route
// table, theme switch, user and sign-out), and <main>. Below 760 px the navigation folds behind a
// Menu button. After each navigation focus moves to <main>, so keyboard and screen-reader users
// start at the new page's content.
import { type ReactNode, useEffect, useRef, useState } from "react";
import { useApp } from "../app-context.tsx";
import { Link, useLocation } from "../router/router.tsx";
import type { AppRoute } from "../routes.tsx";
import { useTheme } from "./theme.ts";

/** Props of {@link AppShell}. */
export interface AppShellProps {
  routes: readonly AppRoute[];
  children: ReactNode;
}

/** The signed-in layout. */
export function AppShell({ routes, children }: AppShellProps) {
  const { user, signOut } = useApp();
  const { pathname } = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  const [theme, setTheme] = useTheme();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);

  // biome-ignore lint/correctness/useExhaustiveDependencies: runs on each navigation (a change of `pathname`)
  useEffect(() => {
    setMenuOpen(false);
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.focus({ preventScroll: true });
    window.scrollTo?.(0, 0);
  }, [pathname]);

  const nav = routes
    .filter((r): r is AppRoute & { nav: NonNullable<AppRoute["nav"]> } => r.nav !== undefined)
    .sort((a, b) => a.nav.order - b.nav.order);
  const next = theme === "dark" ? "light" : "dark";

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/tasks" className="brand" aria-label="Kiln home">
          <span className="brand-mark" aria-hidden="true">
            ◆
          </span>{" "}
          Kiln
        </Link>
        <button
          type="button"
          className="menu-button"
          aria-expanded={menuOpen}
          aria-controls="main-nav"
          onClick={() => setMenuOpen((open) => !open)}
        >
          Menu
        </button>
        <nav id="main-nav" className={`main-nav${menuOpen ? " is-open" : ""}`} aria-label="Main">
          <ul>
            {nav.map((route) => {
              const current = pathname === route.path || pathname.startsWith(`${route.path}/`);
              return (
                <li key={route.path}>
                  <Link to={route.path} aria-current={current ? "page" : undefined}>
                    {route.nav.label}
                  </Link>
                </li>
              );
            })}
          </ul>
          <div className="nav-tools">
            <button
              type="button"
              className="ghost"
              aria-label={`Switch to ${next} theme`}
              title={`Switch to ${next} theme`}
              onClick={() => setTheme(next)}
            >
              <span aria-hidden="true">{theme === "dark" ? "☀" : "☾"}</span>
            </button>
            {user !== undefined && (
              <span className="user-name" title={`Signed in as ${user.username}`}>
                {user.username}
              </span>
            )}
            <button type="button" className="ghost" onClick={() => void signOut()}>
              Sign out
            </button>
          </div>
        </nav>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}

/** The layout of the signed-out pages (sign-in, setup): a centred card, no navigation. */
export function PublicShell({ children }: { children: ReactNode }) {
  const [theme, setTheme] = useTheme();
  const next = theme === "dark" ? "light" : "dark";
  return (
    <div className="public-shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <button
        type="button"
        className="ghost theme-corner"
        aria-label={`Switch to ${next} theme`}
        onClick={() => setTheme(next)}
      >
        <span aria-hidden="true">{theme === "dark" ? "☀" : "☾"}</span>
      </button>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
