// The environment form's fields, and their translation into the API's requests: a create request,
// or for an edit a PATCH with only what changed. Secrets are write-only: the form shows the names the
// server has, a new value replaces one, and a name marked for removal is sent as `null`.
import {
  CreateEnvironmentRequest,
  type Environment,
  type EnvironmentTemplate,
  type NetworkPolicy,
  UpdateEnvironmentRequest,
} from "@kiln/protocol";
import type { CreateEnvironmentInput, UpdateEnvironmentInput } from "@kiln/sdk";

/** A name = value row (environment variables, new secrets). */
export interface KeyValueRow {
  name: string;
  value: string;
}

/** The form's fields, as typed. */
export interface EnvironmentForm {
  name: string;
  repository: string;
  branch: string;
  setupScript: string;
  network: NetworkPolicy;
  /** A built-in template (create only): its setup script and network policy are the defaults. */
  template: string;
  env: KeyValueRow[];
  /** Secrets to set (new ones, or new values of existing ones). */
  secrets: KeyValueRow[];
  /** Names of stored secrets to remove. */
  removeSecrets: string[];
}

/** Problems, by field; rows are `env.3.name`, `secrets.0.value`. */
export type EnvironmentFormErrors = Record<string, string>;

/** The check's answer. */
export type EnvironmentFormCheck<R> = { ok: true; request: R } | { ok: false; errors: EnvironmentFormErrors };

/** An empty form (network off, branch main). */
export function emptyEnvironmentForm(): EnvironmentForm {
  return {
    name: "",
    repository: "",
    branch: "main",
    setupScript: "",
    network: "off",
    template: "",
    env: [],
    secrets: [],
    removeSecrets: [],
  };
}

/** The form of an existing environment (secret values are never known: only the names are shown). */
export function environmentToForm(env: Environment): EnvironmentForm {
  return {
    name: env.name,
    repository: env.repository,
    branch: env.branch,
    setupScript: env.setupScript,
    network: env.network,
    template: env.template ?? "",
    env: Object.entries(env.env).map(([name, value]) => ({ name, value })),
    secrets: [],
    removeSecrets: [],
  };
}

/** The form after picking a template: its setup script and network policy (a blank pick clears it). */
export function applyTemplate(
  form: EnvironmentForm,
  templates: readonly EnvironmentTemplate[],
  name: string,
): EnvironmentForm {
  const template = templates.find((t) => t.name === name);
  if (template === undefined) return { ...form, template: "" };
  return { ...form, template: name, setupScript: template.setupScript, network: template.network };
}

/** Checks the rows: names unique, no value without a name; blank rows are ignored. */
function rowsOf(
  rows: readonly KeyValueRow[],
  field: "env" | "secrets",
  errors: EnvironmentFormErrors,
): Record<string, string> {
  const out: Record<string, string> = {};
  rows.forEach((row, i) => {
    const name = row.name.trim();
    if (name === "" && row.value === "") return;
    if (name === "") {
      errors[`${field}.${i}.name`] = "Give this value a name.";
      return;
    }
    if (name in out) errors[`${field}.${i}.name`] = `${name} is set twice.`;
    if (field === "secrets" && row.value === "") errors[`${field}.${i}.value`] = "Enter the secret's value.";
    out[name] = row.value;
  });
  return out;
}

/** A zod issue, as much of it as the form reads (`invalid_key` carries the key's own issues). */
interface Issue {
  code?: string;
  path: readonly PropertyKey[];
  message: string;
  issues?: readonly { message: string }[];
}

/** Maps zod's issues onto the form's fields (`env.NAME` → that row's name, or its value). */
function collect(issues: readonly Issue[], form: EnvironmentForm, errors: EnvironmentFormErrors): void {
  for (const issue of issues) {
    const [field, key] = issue.path;
    if (typeof field !== "string") continue;
    let target = field;
    let message = issue.message;
    if ((field === "env" || field === "secrets") && typeof key === "string") {
      const i = form[field].findIndex((r) => r.name.trim() === key);
      const badName = issue.code === "invalid_key";
      target = `${field}.${i}.${badName ? "name" : "value"}`;
      if (badName) message = issue.issues?.[0]?.message ?? message;
    }
    errors[target] ??= capitalize(message);
  }
}

/** Checks the form and builds `POST /environments`. */
export function toCreateRequest(form: EnvironmentForm): EnvironmentFormCheck<CreateEnvironmentInput> {
  const errors: EnvironmentFormErrors = {};
  if (form.name.trim() === "") errors.name = "Give the environment a name.";
  if (form.repository.trim() === "")
    errors.repository = "Enter a git URL or a path to a repository on the server.";
  const env = rowsOf(form.env, "env", errors);
  const secrets = rowsOf(form.secrets, "secrets", errors);
  const request: CreateEnvironmentInput = {
    name: form.name.trim(),
    repository: form.repository.trim(),
    network: form.network,
    setupScript: form.setupScript,
    ...(form.branch.trim() === "" ? {} : { branch: form.branch.trim() }),
    ...(form.template === "" ? {} : { template: form.template }),
    ...(Object.keys(env).length === 0 ? {} : { env }),
    ...(Object.keys(secrets).length === 0 ? {} : { secrets }),
  };
  const parsed = CreateEnvironmentRequest.safeParse(request);
  if (!parsed.success) collect(parsed.error.issues, form, errors);
  return Object.keys(errors).length > 0 ? { ok: false, errors } : { ok: true, request };
}

/** Checks the form and builds `PATCH /environments/{id}` with the fields that differ from `original`. */
export function toUpdateRequest(
  original: Environment,
  form: EnvironmentForm,
): EnvironmentFormCheck<UpdateEnvironmentInput> {
  const errors: EnvironmentFormErrors = {};
  if (form.name.trim() === "") errors.name = "Give the environment a name.";
  if (form.repository.trim() === "")
    errors.repository = "Enter a git URL or a path to a repository on the server.";
  if (form.branch.trim() === "") errors.branch = "Enter the branch tasks start from.";
  const env = rowsOf(form.env, "env", errors);
  const set = rowsOf(form.secrets, "secrets", errors);
  const secrets: Record<string, string | null> = { ...set };
  for (const name of form.removeSecrets) if (!(name in set)) secrets[name] = null;
  const request: UpdateEnvironmentInput = {};
  if (form.name.trim() !== original.name) request.name = form.name.trim();
  if (form.repository.trim() !== original.repository) request.repository = form.repository.trim();
  if (form.branch.trim() !== original.branch) request.branch = form.branch.trim();
  if (form.setupScript !== original.setupScript) request.setupScript = form.setupScript;
  if (form.network !== original.network) request.network = form.network;
  if (!sameRecord(env, original.env)) request.env = env;
  if (Object.keys(secrets).length > 0) request.secrets = secrets;
  const parsed = UpdateEnvironmentRequest.safeParse(request);
  if (!parsed.success) collect(parsed.error.issues, form, errors);
  return Object.keys(errors).length > 0 ? { ok: false, errors } : { ok: true, request };
}

function sameRecord(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => b[k] === a[k]);
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
