// The configuration a chat thread is created with (seed 003: working directory or environment, model,
// sandbox, approval policy), as the dialog edits it, and its check before `POST /threads`. The server
// keeps it on the thread (ThreadInfo), so the chat header reads it back from there.
import { type ApprovalPolicy, CreateThreadRequest, type SandboxMode } from "@kiln/protocol";

/** Where the agent works. */
export type ThreadLocation = "fresh" | "cwd" | "environment";

/** The dialog's fields, as typed. */
export interface ThreadConfigForm {
  title: string;
  location: ThreadLocation;
  /** A host directory under one of the server's workspace roots (location `cwd`). */
  cwd: string;
  /** An environment id (location `environment`). */
  environmentId: string;
  /** Empty: the server's default model. */
  model: string;
  sandbox: SandboxMode;
  approvalPolicy: ApprovalPolicy;
}

/** The fields a problem can be about. */
export type ThreadConfigField = keyof ThreadConfigForm;

/** The check's answer: the request to send, or what to fix, per field. */
export type ThreadConfigCheck =
  | { ok: true; request: CreateThreadRequest }
  | { ok: false; errors: Partial<Record<ThreadConfigField, string>> };

/** A new dialog's fields: a fresh workspace, the server's model, workspace-write, ask on request. */
export function defaultThreadConfig(): ThreadConfigForm {
  return {
    title: "",
    location: "fresh",
    cwd: "",
    environmentId: "",
    model: "",
    sandbox: "workspace-write",
    approvalPolicy: "on-request",
  };
}

/** Checks the fields and builds the `POST /threads` body (the server checks again: this is for the person). */
export function checkThreadConfig(form: ThreadConfigForm): ThreadConfigCheck {
  const errors: Partial<Record<ThreadConfigField, string>> = {};
  const cwd = form.cwd.trim();
  const model = form.model.trim();
  const title = form.title.trim();
  if (form.location === "cwd") {
    if (cwd === "") errors.cwd = "Enter the directory the agent works in, e.g. /home/me/project.";
    else if (!cwd.startsWith("/")) errors.cwd = "Use an absolute path (starting with /).";
  }
  if (form.location === "environment" && form.environmentId === "") {
    errors.environmentId = "Choose an environment (or create one on the Environments page).";
  }
  if (/\s/.test(model)) errors.model = "A model name has no spaces, e.g. gpt-5-codex.";
  const request: CreateThreadRequest = {
    sandbox: form.sandbox,
    approvalPolicy: form.approvalPolicy,
    ...(title === "" ? {} : { title }),
    ...(model === "" ? {} : { model }),
    ...(form.location === "cwd" && cwd !== "" ? { cwd } : {}),
    ...(form.location === "environment" && form.environmentId !== ""
      ? { environmentId: form.environmentId }
      : {}),
  };
  // The protocol's own limits (lengths) name the field they are about.
  const parsed = CreateThreadRequest.safeParse(request);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = issue.path[0];
      if (typeof field === "string" && isField(field) && errors[field] === undefined)
        errors[field] = issue.message;
    }
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, request };
}

/** Whether this combination lets the agent run anything on the host without asking. */
export function isUnguarded(form: Pick<ThreadConfigForm, "sandbox" | "approvalPolicy">): boolean {
  return form.sandbox === "danger-full-access" && form.approvalPolicy === "never";
}

const FIELDS: readonly ThreadConfigField[] = [
  "title",
  "location",
  "cwd",
  "environmentId",
  "model",
  "sandbox",
  "approvalPolicy",
];

function isField(name: string): name is ThreadConfigField {
  return (FIELDS as readonly string[]).includes(name);
}

/** People's words for the sandbox modes. */
export const SANDBOX_LABELS: Record<SandboxMode, string> = {
  "read-only": "Read only",
  "workspace-write": "Workspace write",
  "danger-full-access": "Full access (no sandbox)",
};

/** People's words for the approval policies. */
export const APPROVAL_LABELS: Record<ApprovalPolicy, string> = {
  untrusted: "Ask before anything not known safe",
  "on-request": "Ask when the agent requests it",
  "on-failure": "Ask when a sandboxed command fails",
  never: "Never ask",
};
