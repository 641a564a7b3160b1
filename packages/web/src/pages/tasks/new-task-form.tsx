// A new task: the environment, the branch (default: the environment's), the prompt (a `/name`
// custom prompt is expanded by the server), how many attempts (1–4), and whether the agent asks
// before running commands. Ctrl/⌘+Enter submits. The new task opens.
import { type ApprovalPolicy, type Environment, type SavedPrompt, SavedPromptList } from "@kiln/protocol";
import { type FormEvent, type KeyboardEvent, useEffect, useId, useState } from "react";
import { useClient } from "../../app-context.tsx";
import { ErrorAlert } from "../../components/error-alert.tsx";
import { Link, navigate } from "../../router/router.tsx";

const LAST_ENVIRONMENT = "kiln.lastEnvironment";

const POLICIES: { value: ApprovalPolicy; label: string }[] = [
  { value: "never", label: "Never ask (runs on its own in its sandbox)" },
  { value: "on-request", label: "When the agent asks" },
  { value: "on-failure", label: "When a sandboxed command fails" },
  { value: "untrusted", label: "Before any command that is not known safe" },
];

/** Props of {@link NewTaskForm}. */
export interface NewTaskFormProps {
  environments: readonly Environment[] | undefined;
  /** Put the cursor in the prompt on load. */
  autoFocus?: boolean;
}

/** The new-task form. */
export function NewTaskForm({ environments, autoFocus = false }: NewTaskFormProps) {
  const client = useClient();
  const id = useId();
  const [environmentId, setEnvironmentId] = useState("");
  const [branch, setBranch] = useState("");
  const [prompt, setPrompt] = useState("");
  const [attempts, setAttempts] = useState(1);
  const [policy, setPolicy] = useState<ApprovalPolicy>("never");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [saved, setSaved] = useState<SavedPrompt[]>([]);

  // The server's saved prompts, offered while the prompt is a bare `/name…`.
  useEffect(() => {
    const abort = new AbortController();
    client
      .request("GET", "/prompts", SavedPromptList, { signal: abort.signal })
      .then((list) => setSaved(list.prompts))
      .catch(() => undefined);
    return () => abort.abort();
  }, [client]);
  const typed = /^\/([\w-]*)$/.exec(prompt)?.[1];
  const suggestions = typed === undefined ? [] : saved.filter((p) => p.name.startsWith(typed));

  useEffect(() => {
    if (environments === undefined || environments.length === 0) return;
    if (environments.some((e) => e.id === environmentId)) return;
    const last = localStorage.getItem(LAST_ENVIRONMENT);
    setEnvironmentId(environments.find((e) => e.id === last)?.id ?? environments[0]!.id);
  }, [environments, environmentId]);

  const environment = environments?.find((e) => e.id === environmentId);

  const submit = async (event?: FormEvent) => {
    event?.preventDefault();
    if (busy || environmentId === "" || prompt.trim() === "") return;
    setBusy(true);
    setError(undefined);
    try {
      const task = await client.tasks.create({
        environmentId,
        prompt,
        bestOfN: attempts,
        ...(branch.trim() === "" ? {} : { branch: branch.trim() }),
        ...(policy === "never" ? {} : { approvalPolicy: policy }),
      });
      localStorage.setItem(LAST_ENVIRONMENT, environmentId);
      navigate(`/tasks/${encodeURIComponent(task.id)}`);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      void submit();
    }
  };

  if (environments !== undefined && environments.length === 0) {
    return (
      <div className="empty">
        <p>A task runs in an environment (a repository and its setup). There is none yet.</p>
        <Link className="button primary" to="/environments">
          Create an environment
        </Link>
      </div>
    );
  }

  return (
    <form className="form new-task" onSubmit={submit} aria-label="New task">
      <label className="prompt-field">
        Prompt
        <textarea
          name="prompt"
          required
          rows={4}
          // biome-ignore lint/a11y/noAutofocus: the new-task page exists to type a prompt
          autoFocus={autoFocus}
          placeholder="Describe the change, e.g. “Fix the failing test in src/add.ts”. Start with /name to use a saved prompt."
          value={prompt}
          onChange={(e) => setPrompt(e.target.value)}
          onKeyDown={onKeyDown}
          aria-describedby={`${id}-hint`}
        />
      </label>
      {suggestions.length > 0 && (
        <ul className="prompt-suggestions" aria-label="Saved prompts">
          {suggestions.map((p) => (
            <li key={p.name}>
              <button type="button" className="ghost" onClick={() => setPrompt(`/${p.name} `)}>
                /{p.name}
                {p.argumentHint === undefined ? "" : ` ${p.argumentHint}`}
              </button>
              {p.description === undefined ? null : <span className="muted"> — {p.description}</span>}
            </li>
          ))}
        </ul>
      )}
      <div className="form-row">
        <label>
          Environment
          <select
            name="environment"
            required
            value={environmentId}
            disabled={environments === undefined}
            onChange={(e) => setEnvironmentId(e.target.value)}
          >
            {environments === undefined && <option value="">Loading…</option>}
            {environments?.map((e) => (
              <option key={e.id} value={e.id}>
                {e.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Branch
          <input
            name="branch"
            value={branch}
            placeholder={environment?.branch ?? "main"}
            onChange={(e) => setBranch(e.target.value)}
            autoComplete="off"
            spellCheck={false}
          />
        </label>
        <label>
          Attempts
          <select name="attempts" value={attempts} onChange={(e) => setAttempts(Number(e.target.value))}>
            {[1, 2, 3, 4].map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <label>
          Ask before running commands
          <select
            name="approvals"
            value={policy}
            onChange={(e) => setPolicy(e.target.value as ApprovalPolicy)}
          >
            {POLICIES.map((p) => (
              <option key={p.value} value={p.value}>
                {p.label}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorAlert error={error} prefix="Could not start the task" />
      <div className="form-actions">
        <span id={`${id}-hint`} className="muted small">
          Ctrl+Enter to start. Each attempt works in its own copy of the repository.
        </span>
        <button
          type="submit"
          className="primary"
          disabled={busy || environmentId === "" || prompt.trim() === ""}
        >
          {busy ? "Starting…" : "Start task"}
        </button>
      </div>
    </form>
  );
}
