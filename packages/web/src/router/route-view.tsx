// Picks the page for the current path from the route table, guards the pages that need a user (off
// to /sign-in?next=… without one; back to `next` after signing in), sets the document title.
import { Suspense, useEffect } from "react";
import { useApp } from "../app-context.tsx";
import { ErrorBoundary } from "../components/error-boundary.tsx";
import { NotFoundPage } from "../pages/not-found-page.tsx";
import type { AppRoute } from "../routes.tsx";
import { matchPath, navigate, useLocation } from "./router.tsx";

/** The route matching `pathname`, with its params. */
export function findRoute(
  routes: readonly AppRoute[],
  pathname: string,
): { route: AppRoute; params: Record<string, string> } | undefined {
  for (const route of routes) {
    const params = matchPath(route.path, pathname);
    if (params !== undefined) return { route, params };
  }
  return undefined;
}

/** Renders the page of the current location. */
export function RouteView({ routes }: { routes: readonly AppRoute[] }) {
  const { user } = useApp();
  const location = useLocation();
  const found = findRoute(routes, location.pathname);
  const needsUser = found !== undefined && found.route.public !== true && user === undefined;

  useEffect(() => {
    if (!needsUser) return;
    const next = `${location.pathname}${location.search}`;
    navigate(`/sign-in?next=${encodeURIComponent(next)}`, { replace: true });
  }, [needsUser, location.pathname, location.search]);

  useEffect(() => {
    const title = found?.route.title ?? found?.route.nav?.label ?? "Not found";
    document.title = `${title} · Kiln`;
  }, [found]);

  if (needsUser) return null;
  if (found === undefined) return <NotFoundPage pathname={location.pathname} />;
  const Page = found.route.component;
  return (
    <ErrorBoundary resetKey={location.pathname}>
      <Suspense
        fallback={
          <p className="loading" role="status">
            Loading…
          </p>
        }
      >
        <Page params={found.params} />
      </Suspense>
    </ErrorBoundary>
  );
}
