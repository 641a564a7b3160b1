// Sign in with a username and password; the server sets the session cookie. Then back to the page
// that asked (`?next=`), or the tasks.
import { type FormEvent, useEffect, useState } from "react";
import { useApp } from "../../app-context.tsx";
import { ErrorAlert } from "../../components/error-alert.tsx";
import { navigate, useSearchParams } from "../../router/router.tsx";
import { safeNext } from "./safe-next.ts";

/** The sign-in page. */
export function SignInPage() {
  const { session, user, signedIn } = useApp();
  const next = safeNext(useSearchParams().get("next"));
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();

  useEffect(() => {
    if (user !== undefined) navigate(next, { replace: true });
  }, [user, next]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      signedIn(await session.login(username, password));
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };

  return (
    <section className="auth-card">
      <h1>Sign in to Kiln</h1>
      <form onSubmit={submit} className="form">
        <label>
          Username
          <input
            name="username"
            autoComplete="username"
            required
            value={username}
            onChange={(e) => setUsername(e.target.value)}
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <ErrorAlert error={error} prefix="Could not sign in" />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
      <p className="muted small">
        First run? Open the setup link that <code>kiln serve</code> printed.
      </p>
    </section>
  );
}
