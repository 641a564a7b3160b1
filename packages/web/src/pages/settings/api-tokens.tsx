// Personal API tokens: create one (name, scopes, expiry), see it once with a Copy button, list them
// (never the tokens: name, scopes, created, last used, expiry) and revoke them.
import type { ApiTokenSummary, CreatedApiToken } from "@kiln/protocol";
import type { KilnClient } from "@kiln/sdk";
import { type FormEvent, useCallback, useEffect, useId, useRef, useState } from "react";
import { errorMessage, formatAge } from "../../lib/format.ts";
import { createToken, listTokens, revokeToken, type TokenScope } from "./settings-api.ts";

const SCOPES: readonly { scope: TokenScope; label: string }[] = [
  { scope: "read", label: "Read" },
  { scope: "write", label: "Write" },
  { scope: "admin", label: "Admin" },
];

const EXPIRY: readonly { days: number | undefined; label: string }[] = [
  { days: 30, label: "30 days" },
  { days: 90, label: "90 days" },
  { days: 365, label: "1 year" },
  { days: undefined, label: "Never" },
];

/** Where a token stands now. */
export function tokenState(
  token: ApiTokenSummary,
  now: number = Date.now(),
): "active" | "revoked" | "expired" {
  if (token.revokedAt !== undefined) return "revoked";
  if (token.expiresAt !== undefined && token.expiresAt <= now) return "expired";
  return "active";
}

/** The API tokens section of the settings page. `grantable`: the scopes the caller has. */
export function ApiTokens({ client, grantable }: { client: KilnClient; grantable: readonly string[] }) {
  const id = useId();
  const [tokens, setTokens] = useState<ApiTokenSummary[]>();
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<TokenScope[]>(["read", "write"]);
  const [expiry, setExpiry] = useState("30");
  const [created, setCreated] = useState<CreatedApiToken>();
  const [copied, setCopied] = useState<string>();
  const [problem, setProblem] = useState<string>();
  const [busy, setBusy] = useState(false);
  const tokenInput = useRef<HTMLInputElement>(null);

  // A new token is shown once: put the focus on it, next to its Copy button.
  useEffect(() => {
    if (created !== undefined) tokenInput.current?.focus();
  }, [created]);

  const reload = useCallback(
    (signal?: AbortSignal) =>
      listTokens(client, signal).then(setTokens, (e: unknown) => {
        if (!signal?.aborted) setProblem(`Could not list your tokens: ${errorMessage(e)}`);
      }),
    [client],
  );
  useEffect(() => {
    const abort = new AbortController();
    void reload(abort.signal);
    return () => abort.abort();
  }, [reload]);

  const create = async (event: FormEvent) => {
    event.preventDefault();
    if (name.trim() === "") {
      setProblem("Name the token after what will use it, e.g. “CI”.");
      return;
    }
    if (scopes.length === 0) {
      setProblem("Give the token at least one scope.");
      return;
    }
    setProblem(undefined);
    setBusy(true);
    try {
      const days = expiry === "" ? undefined : Number(expiry);
      const token = await createToken(client, {
        name: name.trim(),
        scopes,
        ...(days === undefined ? {} : { expiresInDays: days }),
      });
      setCreated(token);
      setCopied(undefined);
      setName("");
      await reload();
    } catch (e) {
      setProblem(`Could not create the token: ${errorMessage(e)}`);
    } finally {
      setBusy(false);
    }
  };

  const copy = async () => {
    if (created === undefined) return;
    try {
      await navigator.clipboard.writeText(created.token);
      setCopied("Copied to the clipboard.");
    } catch {
      // No clipboard permission (an insecure origin, a refusal): select it for Ctrl+C instead.
      tokenInput.current?.select();
      setCopied("Selected: press Ctrl+C (⌘C) to copy it.");
    }
  };

  const revoke = async (token: ApiTokenSummary) => {
    if (!window.confirm(`Revoke ${token.name}? Programs using it will be refused from now on.`)) return;
    try {
      await revokeToken(client, token.id);
      await reload();
    } catch (e) {
      setProblem(`Could not revoke ${token.name}: ${errorMessage(e)}`);
    }
  };

  const toggleScope = (scope: TokenScope, on: boolean) =>
    setScopes((current) => (on ? [...current, scope] : current.filter((s) => s !== scope)));

  return (
    <section className="settings-section" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Personal API tokens</h2>
      <p className="muted">
        For the CLI, the SDK and scripts: send as <code>Authorization: Bearer …</code>.
      </p>
      {created !== undefined && (
        <section className="card token-created" aria-label="New token">
          <p>
            <strong>{`Token “${created.name}” created.`}</strong> Copy it now: it will not be shown again.
          </p>
          <div className="button-row">
            <label htmlFor={`${id}-token`} className="sr-only">
              New token
            </label>
            <input
              id={`${id}-token`}
              ref={tokenInput}
              className="mono"
              readOnly
              value={created.token}
              onFocus={(e) => e.target.select()}
            />
            <button type="button" className="primary" onClick={() => void copy()}>
              Copy
            </button>
            <button type="button" onClick={() => setCreated(undefined)}>
              Done
            </button>
          </div>
          {copied !== undefined && (
            <p role="status" className="muted">
              {copied}
            </p>
          )}
        </section>
      )}
      <form className="settings-form" onSubmit={(e) => void create(e)} aria-label="Create a token" noValidate>
        <div className="field">
          <label htmlFor={`${id}-name`}>Token name</label>
          <input
            id={`${id}-name`}
            value={name}
            onChange={(e) => setName(e.target.value)}
            placeholder="CI"
            maxLength={100}
          />
        </div>
        <fieldset>
          <legend>Scopes</legend>
          {SCOPES.filter((s) => grantable.includes(s.scope)).map((s) => (
            <label key={s.scope} className="inline">
              <input
                type="checkbox"
                checked={scopes.includes(s.scope)}
                onChange={(e) => toggleScope(s.scope, e.target.checked)}
              />
              {s.label}
            </label>
          ))}
        </fieldset>
        <div className="field">
          <label htmlFor={`${id}-expiry`}>Expires</label>
          <select id={`${id}-expiry`} value={expiry} onChange={(e) => setExpiry(e.target.value)}>
            {EXPIRY.map((x) => (
              <option key={x.label} value={x.days === undefined ? "" : String(x.days)}>
                {x.label}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Creating…" : "Create token"}
        </button>
      </form>
      {problem !== undefined && (
        <p role="alert" className="error">
          {problem}
        </p>
      )}
      {tokens?.length === 0 && <p className="muted">No tokens yet.</p>}
      {tokens !== undefined && tokens.length > 0 && (
        <div className="table-scroll">
          <table className="settings-table">
            <caption className="sr-only">Your tokens</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Scopes</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">Status</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {tokens.map((t) => {
                const state = tokenState(t);
                return (
                  <tr key={t.id}>
                    <th scope="row">{t.name}</th>
                    <td>{t.scopes.join(", ")}</td>
                    <td>{formatAge(t.createdAt)}</td>
                    <td>{t.lastUsedAt === undefined ? "Never" : formatAge(t.lastUsedAt)}</td>
                    <td>
                      {state === "active"
                        ? t.expiresAt === undefined
                          ? "Active"
                          : `Active until ${new Date(t.expiresAt).toLocaleDateString()}`
                        : state === "revoked"
                          ? "Revoked"
                          : "Expired"}
                    </td>
                    <td>
                      {state === "active" && (
                        <button
                          type="button"
                          className="danger"
                          aria-label={`Revoke ${t.name}`}
                          onClick={() => void revoke(t)}
                        >
                          Revoke
                        </button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
