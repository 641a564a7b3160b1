// "New thread": a modal dialog with the thread's configuration (seed 003). It checks the fields as
// the person submits, shows each problem next to its field, and hands the request to `onSubmit`
// (which creates the thread); a failure of that call is shown in the dialog, which stays open.
import type { ApprovalPolicy, CreateThreadRequest, Environment, SandboxMode } from "@kiln/protocol";
import { ApprovalPolicy as ApprovalPolicies, SandboxMode as SandboxModes } from "@kiln/protocol";
import { type FormEvent, useEffect, useId, useRef, useState } from "react";
import { errorMessage } from "../../lib/format.ts";
import {
  APPROVAL_LABELS,
  checkThreadConfig,
  defaultThreadConfig,
  isUnguarded,
  SANDBOX_LABELS,
  type ThreadConfigField,
  type ThreadConfigForm,
  type ThreadLocation,
} from "./thread-config.ts";

/** Props of {@link ThreadConfigDialog}. */
export interface ThreadConfigDialogProps {
  open: boolean;
  /** The caller's environments (for "work in an environment"). */
  environments: readonly Environment[];
  /** Creates the thread; a rejection's message is shown in the dialog. */
  onSubmit: (request: CreateThreadRequest) => Promise<void>;
  onClose: () => void;
}

/** The "New thread" dialog. */
export function ThreadConfigDialog({ open, environments, onSubmit, onClose }: ThreadConfigDialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const id = useId();
  const [form, setForm] = useState<ThreadConfigForm>(defaultThreadConfig);
  const [errors, setErrors] = useState<Partial<Record<ThreadConfigField, string>>>({});
  const [failure, setFailure] = useState<string>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const dialog = ref.current;
    if (dialog === null) return;
    if (open && !dialog.open) {
      setForm(defaultThreadConfig());
      setErrors({});
      setFailure(undefined);
      // showModal traps focus and makes the page behind inert; `open` is the fallback for old engines.
      if (typeof dialog.showModal === "function") dialog.showModal();
      else dialog.setAttribute("open", "");
    }
    if (!open && dialog.open) dialog.close();
  }, [open]);

  const set = <K extends keyof ThreadConfigForm>(key: K, value: ThreadConfigForm[K]) =>
    setForm((f) => ({ ...f, [key]: value }));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const check = checkThreadConfig(form);
    if (!check.ok) {
      setErrors(check.errors);
      return;
    }
    setErrors({});
    setFailure(undefined);
    setBusy(true);
    try {
      await onSubmit(check.request);
    } catch (error) {
      setFailure(errorMessage(error));
    } finally {
      setBusy(false);
    }
  };

  const fieldError = (field: ThreadConfigField) =>
    errors[field] === undefined ? null : (
      <p id={`${id}-${field}-error`} className="error" role="alert">
        {errors[field]}
      </p>
    );
  const describedBy = (field: ThreadConfigField) =>
    errors[field] === undefined ? undefined : `${id}-${field}-error`;

  return (
    <dialog ref={ref} className="dialog" aria-labelledby={`${id}-heading`} onClose={onClose}>
      <form onSubmit={submit} noValidate>
        <h2 id={`${id}-heading`}>New thread</h2>
        <label htmlFor={`${id}-title`}>Title</label>
        <input
          id={`${id}-title`}
          value={form.title}
          onChange={(e) => set("title", e.target.value)}
          placeholder="Named after the first message"
          aria-invalid={errors.title !== undefined}
          aria-describedby={describedBy("title")}
        />
        {fieldError("title")}
        <fieldset>
          <legend>Where the agent works</legend>
          {(
            [
              ["fresh", "A fresh workspace"],
              ["cwd", "A directory on the server"],
              ["environment", "A copy of an environment's repository"],
            ] as const satisfies readonly (readonly [ThreadLocation, string])[]
          ).map(([value, label]) => (
            <label key={value} className="inline">
              <input
                type="radio"
                name={`${id}-location`}
                value={value}
                checked={form.location === value}
                onChange={() => set("location", value)}
              />
              {label}
            </label>
          ))}
        </fieldset>
        {form.location === "cwd" && (
          <>
            <label htmlFor={`${id}-working-directory`}>Working directory</label>
            <input
              id={`${id}-working-directory`}
              value={form.cwd}
              onChange={(e) => set("cwd", e.target.value)}
              placeholder="/home/me/project"
              spellCheck={false}
              autoCapitalize="off"
              aria-invalid={errors.cwd !== undefined}
              aria-describedby={describedBy("cwd")}
            />
            {fieldError("cwd")}
          </>
        )}
        {form.location === "environment" && (
          <>
            <label htmlFor={`${id}-environment`}>Environment</label>
            <select
              id={`${id}-environment`}
              value={form.environmentId}
              onChange={(e) => set("environmentId", e.target.value)}
              aria-invalid={errors.environmentId !== undefined}
              aria-describedby={describedBy("environmentId")}
            >
              <option value="">Choose…</option>
              {environments.map((env) => (
                <option key={env.id} value={env.id}>
                  {`${env.name} (${env.branch})`}
                </option>
              ))}
            </select>
            {fieldError("environmentId")}
          </>
        )}
        <label htmlFor={`${id}-model`}>Model</label>
        <input
          id={`${id}-model`}
          value={form.model}
          onChange={(e) => set("model", e.target.value)}
          placeholder="The server's default"
          spellCheck={false}
          autoCapitalize="off"
          aria-invalid={errors.model !== undefined}
          aria-describedby={describedBy("model")}
        />
        {fieldError("model")}
        <label htmlFor={`${id}-sandbox`}>Sandbox</label>
        <select
          id={`${id}-sandbox`}
          value={form.sandbox}
          onChange={(e) => set("sandbox", e.target.value as SandboxMode)}
        >
          {SandboxModes.options.map((mode) => (
            <option key={mode} value={mode}>
              {SANDBOX_LABELS[mode]}
            </option>
          ))}
        </select>
        <label htmlFor={`${id}-approval-policy`}>Approval policy</label>
        <select
          id={`${id}-approval-policy`}
          value={form.approvalPolicy}
          onChange={(e) => set("approvalPolicy", e.target.value as ApprovalPolicy)}
        >
          {ApprovalPolicies.options.map((policy) => (
            <option key={policy} value={policy}>
              {APPROVAL_LABELS[policy]}
            </option>
          ))}
        </select>
        {isUnguarded(form) && (
          <p className="notice notice-warning" role="note">
            The agent will run any command on the server without a sandbox and without asking.
          </p>
        )}
        {failure !== undefined && (
          <p className="error" role="alert">
            {`Could not create the thread: ${failure}`}
          </p>
        )}
        <div className="button-row">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" disabled={busy}>
            {busy ? "Creating…" : "Create thread"}
          </button>
        </div>
      </form>
    </dialog>
  );
}
