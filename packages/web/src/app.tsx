// The app: one SDK client for this page's origin with the browser session (HttpOnly cookie + CSRF
// token in memory, never a token in localStorage), the signed-in user picked up from the cookie on
// load, and the page of the current path. A 401 on any request (the session ended or was revoked)
// shows the sign-in page, which comes back to the same page afterwards.
import { BrowserSession, KilnClient } from "@kiln/sdk";
import { useCallback, useEffect, useMemo, useState } from "react";
import { AppContext, type AppContextValue, type AppUser } from "./app-context.tsx";
import { errorMessage } from "./lib/format.ts";
import { findRoute, RouteView } from "./router/route-view.tsx";
import { navigate, useLocation } from "./router/router.tsx";
import { routes } from "./routes.tsx";
import { AppShell, PublicShell } from "./shell/app-shell.tsx";

/** Props of {@link App}. */
export interface AppProps {
  /** The server (default: the page's origin, which serves both the app and the API). */
  baseUrl?: string;
}

type AuthState =
  | { state: "loading" }
  | { state: "signedIn"; user: AppUser }
  | { state: "signedOut" }
  | { state: "unreachable"; message: string };

/** The Kiln web app. */
export function App({ baseUrl = window.location.origin }: AppProps) {
  const session = useMemo(() => new BrowserSession({ baseUrl }), [baseUrl]);
  const client = useMemo(() => new KilnClient({ baseUrl, session }), [baseUrl, session]);
  const [auth, setAuth] = useState<AuthState>({ state: "loading" });
  const [attempt, setAttempt] = useState(0);
  const { pathname } = useLocation();

  // biome-ignore lint/correctness/useExhaustiveDependencies: `attempt` is the "Try again" button's trigger
  useEffect(() => {
    const abort = new AbortController();
    session.resume({ signal: abort.signal }).then(
      (user) => setAuth(user === undefined ? { state: "signedOut" } : { state: "signedIn", user }),
      (error: unknown) => {
        if (!abort.signal.aborted) setAuth({ state: "unreachable", message: errorMessage(error) });
      },
    );
    return () => abort.abort();
  }, [session, attempt]);

  useEffect(() => session.onExpired(() => setAuth({ state: "signedOut" })), [session]);

  const signedIn = useCallback((user: AppUser) => setAuth({ state: "signedIn", user }), []);
  const signOut = useCallback(async () => {
    await session.logout().catch(() => undefined);
    setAuth({ state: "signedOut" });
    navigate("/sign-in", { replace: true });
  }, [session]);

  const value: AppContextValue = useMemo(
    () => ({ client, session, user: auth.state === "signedIn" ? auth.user : undefined, signedIn, signOut }),
    [client, session, auth, signedIn, signOut],
  );

  if (auth.state === "loading") {
    return (
      <p className="boot" role="status">
        Loading Kiln…
      </p>
    );
  }
  if (auth.state === "unreachable") {
    return (
      <PublicShell>
        <section className="auth-card" role="alert">
          <h1>Kiln is not reachable</h1>
          <p>{auth.message}</p>
          <button type="button" className="primary" onClick={() => setAttempt((n) => n + 1)}>
            Try again
          </button>
        </section>
      </PublicShell>
    );
  }
  const isPublic = findRoute(routes, pathname)?.route.public === true;
  return (
    <AppContext.Provider value={value}>
      {isPublic || auth.state !== "signedIn" ? (
        <PublicShell>
          <RouteView routes={routes} />
        </PublicShell>
      ) : (
        <AppShell routes={routes}>
          <RouteView routes={routes} />
        </AppShell>
      )}
    </AppContext.Provider>
  );
}
