// First-run setup: the link `kiln serve` prints (`/setup#token=…`, or `?token=…`) lets the admin
// choose a password; the server signs them in.
import { PASSWORD_MIN_LENGTH } from "@kiln/protocol";
import { type FormEvent, useState } from "react";
import { useApp } from "../../app-context.tsx";
import { ErrorAlert } from "../../components/error-alert.tsx";
import { Link, navigate, useLocation } from "../../router/router.tsx";

/** The setup token from the URL's hash (as printed) or query. */
function tokenOf(search: string, hash: string): string | undefined {
  const fromHash = new URLSearchParams(hash.replace(/^#/, "")).get("token");
  const fromQuery = new URLSearchParams(search).get("token");
  const token = fromHash ?? fromQuery;
  return token === null || token === "" ? undefined : token;
}

/** The first-run setup page. */
export function SetupPage() {
  const { session, signedIn } = useApp();
  const { search, hash } = useLocation();
  const token = tokenOf(search, hash);
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();

  if (token === undefined) {
    return (
      <section className="auth-card">
        <h1>Set up Kiln</h1>
        <p>
          This page needs the setup link that <code>kiln serve</code> printed when it first started. Restart{" "}
          <code>kiln serve</code> to print a new one, or <Link to="/sign-in">sign in</Link> if the admin
          already has a password.
        </p>
      </section>
    );
  }

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (password !== confirm) {
      setError(new Error("the two passwords differ: type the same password twice"));
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const user = await session.setup(token, password);
      signedIn(user);
      navigate("/tasks", { replace: true });
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };

  return (
    <section className="auth-card">
      <h1>Set up Kiln</h1>
      <p>Choose the admin's password. You will be signed in.</p>
      <form onSubmit={submit} className="form">
        <label>
          New password
          <input
            type="password"
            autoComplete="new-password"
            required
            minLength={PASSWORD_MIN_LENGTH}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <label>
          Repeat the password
          <input
            type="password"
            autoComplete="new-password"
            required
            minLength={PASSWORD_MIN_LENGTH}
            value={confirm}
            onChange={(e) => setConfirm(e.target.value)}
          />
        </label>
        <p className="muted small">At least {PASSWORD_MIN_LENGTH} characters.</p>
        <ErrorAlert error={error} prefix="Could not finish setup" />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Setting up…" : "Set password and sign in"}
        </button>
      </form>
    </section>
  );
}
