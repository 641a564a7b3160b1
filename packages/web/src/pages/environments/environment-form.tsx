// Create or edit an environment: name, repository, branch, a built-in template (new environments
// only: it fills the setup script and network policy), setup script, variables, secrets and network.
// Secret values are write-only: stored ones are listed by name, can be replaced or removed, never read.
import type { Environment, EnvironmentTemplate } from "@kiln/protocol";
import type { CreateEnvironmentInput, UpdateEnvironmentInput } from "@kiln/sdk";
import { type FormEvent, useEffect, useId, useRef, useState } from "react";
import { errorMessage } from "../../lib/format.ts";
import {
  applyTemplate,
  type EnvironmentFormErrors,
  type EnvironmentForm as EnvironmentFormFields,
  emptyEnvironmentForm,
  environmentToForm,
  toCreateRequest,
  toUpdateRequest,
} from "./environment-form-state.ts";
import { KeyValueRows } from "./key-value-rows.tsx";

/** Props of {@link EnvironmentForm}. */
export type EnvironmentFormProps = {
  templates: readonly EnvironmentTemplate[];
  onCancel: () => void;
} & (
  | { environment?: undefined; onSubmit: (request: CreateEnvironmentInput) => Promise<void> }
  | { environment: Environment; onSubmit: (request: UpdateEnvironmentInput) => Promise<void> }
);

/** The environment form (a new one without `environment`). */
export function EnvironmentForm(props: EnvironmentFormProps) {
  const { templates, onCancel, environment } = props;
  const id = useId();
  const [form, setForm] = useState<EnvironmentFormFields>(() =>
    environment === undefined ? emptyEnvironmentForm() : environmentToForm(environment),
  );
  const [errors, setErrors] = useState<EnvironmentFormErrors>({});
  const [failure, setFailure] = useState<string>();
  const [busy, setBusy] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);

  // The form opens above the list: take keyboard and screen-reader users to it.
  useEffect(() => {
    heading.current?.focus();
    heading.current?.scrollIntoView?.({ block: "start" });
  }, []);
  const set = <K extends keyof EnvironmentFormFields>(key: K, value: EnvironmentFormFields[K]) =>
    setForm((f) => ({ ...f, [key]: value }));
  const title = environment === undefined ? "New environment" : `Edit ${environment.name}`;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setFailure(undefined);
    const send = async (): Promise<EnvironmentFormErrors | undefined> => {
      if (props.environment === undefined) {
        const check = toCreateRequest(form);
        if (!check.ok) return check.errors;
        await props.onSubmit(check.request);
        return undefined;
      }
      const check = toUpdateRequest(props.environment, form);
      if (!check.ok) return check.errors;
      await props.onSubmit(check.request);
      return undefined;
    };
    setBusy(true);
    try {
      setErrors((await send()) ?? {});
    } catch (e) {
      setFailure(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  const text = (field: "name" | "repository" | "branch", label: string, placeholder: string) => (
    <div className="field">
      <label htmlFor={`${id}-${field}`}>{label}</label>
      <input
        id={`${id}-${field}`}
        value={form[field]}
        placeholder={placeholder}
        spellCheck={false}
        autoCapitalize="off"
        onChange={(e) => set(field, e.target.value)}
        aria-invalid={errors[field] !== undefined}
        aria-describedby={errors[field] === undefined ? undefined : `${id}-${field}-error`}
      />
      {errors[field] !== undefined && (
        <p id={`${id}-${field}-error`} className="error" role="alert">
          {errors[field]}
        </p>
      )}
    </div>
  );

  return (
    <form
      className="environment-form card"
      aria-labelledby={`${id}-title`}
      onSubmit={(e) => void submit(e)}
      noValidate
    >
      <h2 id={`${id}-title`} ref={heading} tabIndex={-1}>
        {title}
      </h2>
      {text("name", "Name", "web app")}
      {text("repository", "Repository", "https://github.com/owner/repo.git or /srv/repos/repo")}
      {text("branch", "Branch", "main")}
      {environment === undefined && (
        <div className="field">
          <label htmlFor={`${id}-template`}>Template</label>
          <select
            id={`${id}-template`}
            value={form.template}
            onChange={(e) => setForm((f) => applyTemplate(f, templates, e.target.value))}
          >
            <option value="">None</option>
            {templates.map((t) => (
              <option key={t.name} value={t.name}>
                {t.label}
              </option>
            ))}
          </select>
          {form.template !== "" && (
            <p className="muted">{templates.find((t) => t.name === form.template)?.description}</p>
          )}
        </div>
      )}
      <div className="field">
        <label htmlFor={`${id}-setup`}>Setup script</label>
        <textarea
          id={`${id}-setup`}
          className="mono"
          rows={6}
          value={form.setupScript}
          placeholder="npm ci"
          spellCheck={false}
          onChange={(e) => set("setupScript", e.target.value)}
          aria-invalid={errors.setupScript !== undefined}
        />
        <p className="muted">
          Runs once in a fresh clone (with the secrets); the result is cached for later tasks.
        </p>
        {errors.setupScript !== undefined && (
          <p className="error" role="alert">
            {errors.setupScript}
          </p>
        )}
      </div>
      <fieldset>
        <legend>Environment variables</legend>
        <KeyValueRows
          field="env"
          noun="Variable"
          rows={form.env}
          errors={errors}
          onChange={(rows) => set("env", rows)}
        />
      </fieldset>
      <fieldset>
        <legend>Secrets</legend>
        <p className="muted">
          Given to the setup script only, never to the agent. Values cannot be read back.
        </p>
        {environment !== undefined && environment.secretNames.length > 0 && (
          <ul className="secret-names" aria-label="Stored secrets">
            {environment.secretNames.map((name) => {
              const removing = form.removeSecrets.includes(name);
              return (
                <li key={name}>
                  <code className={removing ? "struck" : undefined}>{name}</code>
                  <label className="inline">
                    <input
                      type="checkbox"
                      checked={removing}
                      onChange={(e) =>
                        set(
                          "removeSecrets",
                          e.target.checked
                            ? [...form.removeSecrets, name]
                            : form.removeSecrets.filter((n) => n !== name),
                        )
                      }
                    />
                    {`Remove ${name}`}
                  </label>
                </li>
              );
            })}
          </ul>
        )}
        <KeyValueRows
          field="secrets"
          noun="Secret"
          secret
          rows={form.secrets}
          errors={errors}
          onChange={(rows) => set("secrets", rows)}
        />
      </fieldset>
      <div className="field">
        <label className="inline">
          <input
            type="checkbox"
            checked={form.network === "on"}
            onChange={(e) => set("network", e.target.checked ? "on" : "off")}
          />
          Network access for the agent
        </label>
        <p className="muted">Off: the agent's commands cannot reach the network (setup always can).</p>
      </div>
      {failure !== undefined && (
        <p className="error" role="alert">
          {`Could not save the environment: ${failure}`}
        </p>
      )}
      <div className="button-row">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Saving…" : environment === undefined ? "Create environment" : "Save changes"}
        </button>
      </div>
    </form>
  );
}
