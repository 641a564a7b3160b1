// Model provider keys: the caller's own OPENAI_API_KEY / ANTHROPIC_API_KEY (or any other secret name),
// which override the server's for their turns. Write-only: the list shows names and when each was
// last set; a value goes in through a password field and never comes back.
import type { SecretSummary } from "@kiln/protocol";
import { SecretName } from "@kiln/protocol";
import type { KilnClient } from "@kiln/sdk";
import { type FormEvent, useCallback, useEffect, useId, useState } from "react";
import { errorMessage, formatAge } from "../../lib/format.ts";
import { deleteSecret, listSecrets, putSecret } from "./settings-api.ts";

/** The providers people pick from, and the secret each reads. */
export const PROVIDER_KEYS = [
  { label: "OpenAI", name: "OPENAI_API_KEY" },
  { label: "Anthropic", name: "ANTHROPIC_API_KEY" },
] as const;

const OTHER = "other";

/** The secret name the form stands for, or a problem to show. */
export function secretNameOf(provider: string, other: string): { name: string } | { error: string } {
  const known = PROVIDER_KEYS.find((p) => p.name === provider);
  if (known !== undefined) return { name: known.name };
  const name = other.trim();
  if (name === "") return { error: "Enter the secret's name, e.g. OPENROUTER_API_KEY." };
  const parsed = SecretName.safeParse(name);
  return parsed.success
    ? { name }
    : { error: `${name}: ${parsed.error.issues[0]?.message ?? "not a valid name"}` };
}

/** The provider keys section of the settings page. */
export function ProviderKeys({ client }: { client: KilnClient }) {
  const id = useId();
  const [secrets, setSecrets] = useState<SecretSummary[]>();
  const [provider, setProvider] = useState<string>(PROVIDER_KEYS[0].name);
  const [other, setOther] = useState("");
  const [value, setValue] = useState("");
  const [problem, setProblem] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const [busy, setBusy] = useState(false);

  const reload = useCallback(
    (signal?: AbortSignal) =>
      listSecrets(client, signal).then(setSecrets, (e: unknown) => {
        if (!signal?.aborted) setProblem(`Could not list your keys: ${errorMessage(e)}`);
      }),
    [client],
  );
  useEffect(() => {
    const abort = new AbortController();
    void reload(abort.signal);
    return () => abort.abort();
  }, [reload]);

  const save = async (event: FormEvent) => {
    event.preventDefault();
    setNotice(undefined);
    const target = secretNameOf(provider, other);
    if ("error" in target) {
      setProblem(target.error);
      return;
    }
    if (value === "") {
      setProblem("Paste the key's value.");
      return;
    }
    setProblem(undefined);
    setBusy(true);
    try {
      await putSecret(client, target.name, value);
      setValue("");
      setNotice(`Saved ${target.name}.`);
      await reload();
    } catch (e) {
      setProblem(`Could not save ${target.name}: ${errorMessage(e)}`);
    } finally {
      setBusy(false);
    }
  };

  const remove = async (name: string) => {
    if (!window.confirm(`Delete ${name}? Turns will use the server's key (if any) instead.`)) return;
    try {
      await deleteSecret(client, name);
      setNotice(`Deleted ${name}.`);
      await reload();
    } catch (e) {
      setProblem(`Could not delete ${name}: ${errorMessage(e)}`);
    }
  };

  return (
    <section className="settings-section" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Model provider keys</h2>
      <p className="muted">
        Your keys are used for your turns instead of the server's. They are stored encrypted and cannot be
        read back.
      </p>
      {secrets === undefined && problem === undefined && <p className="muted">Loading…</p>}
      {secrets?.length === 0 && <p className="muted">You have no keys stored: turns use the server's.</p>}
      {secrets !== undefined && secrets.length > 0 && (
        <div className="table-scroll">
          <table className="settings-table">
            <caption className="sr-only">Stored keys</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Last set</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {secrets.map((s) => (
                <tr key={s.name}>
                  <th scope="row">
                    <code>{s.name}</code>
                  </th>
                  <td>
                    <time dateTime={new Date(s.updatedAt).toISOString()}>{formatAge(s.updatedAt)}</time>
                  </td>
                  <td>
                    <button
                      type="button"
                      className="danger"
                      aria-label={`Delete ${s.name}`}
                      onClick={() => void remove(s.name)}
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <form
        className="settings-form"
        onSubmit={(e) => void save(e)}
        aria-label="Set a provider key"
        noValidate
      >
        <div className="field">
          <label htmlFor={`${id}-provider`}>Provider</label>
          <select id={`${id}-provider`} value={provider} onChange={(e) => setProvider(e.target.value)}>
            {PROVIDER_KEYS.map((p) => (
              <option key={p.name} value={p.name}>
                {`${p.label} (${p.name})`}
              </option>
            ))}
            <option value={OTHER}>Other…</option>
          </select>
        </div>
        {provider === OTHER && (
          <div className="field">
            <label htmlFor={`${id}-name`}>Secret name</label>
            <input
              id={`${id}-name`}
              value={other}
              onChange={(e) => setOther(e.target.value.toUpperCase())}
              placeholder="OPENROUTER_API_KEY"
              spellCheck={false}
              autoCapitalize="characters"
            />
          </div>
        )}
        <div className="field">
          <label htmlFor={`${id}-value`}>Key</label>
          <input
            id={`${id}-value`}
            type="password"
            autoComplete="off"
            value={value}
            onChange={(e) => setValue(e.target.value)}
            placeholder="sk-…"
            spellCheck={false}
          />
        </div>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Saving…" : "Save key"}
        </button>
      </form>
      {problem !== undefined && (
        <p role="alert" className="error">
          {problem}
        </p>
      )}
      {notice !== undefined && (
        <p role="status" className="notice">
          {notice}
        </p>
      )}
    </section>
  );
}
