import type { Environment } from "@kiln/protocol";
import { describe, expect, it } from "vitest";
import {
  applyTemplate,
  emptyEnvironmentForm,
  environmentToForm,
  toCreateRequest,
  toUpdateRequest,
} from "./environment-form-state.ts";

const stored: Environment = {
  id: "env_1",
  name: "web",
  repository: "https://example.com/web.git",
  branch: "main",
  setupScript: "npm ci",
  env: { CI: "1" },
  secretNames: ["NPM_TOKEN"],
  network: "off",
  setupTimeoutMs: 600_000,
  pinned: false,
  taskCount: 0,
  createdAt: 1,
  updatedAt: 1,
};

describe("toCreateRequest", () => {
  it("builds the request from the fields, leaving out blank rows", () => {
    const form = {
      ...emptyEnvironmentForm(),
      name: " web ",
      repository: "/srv/repos/web",
      setupScript: "npm ci",
      env: [
        { name: "CI", value: "1" },
        { name: "", value: "" },
      ],
      secrets: [{ name: "NPM_TOKEN", value: "s3cret" }],
    };
    expect(toCreateRequest(form)).toEqual({
      ok: true,
      request: {
        name: "web",
        repository: "/srv/repos/web",
        branch: "main",
        network: "off",
        setupScript: "npm ci",
        env: { CI: "1" },
        secrets: { NPM_TOKEN: "s3cret" },
      },
    });
  });

  it("names each field to fix: missing ones, duplicate and malformed names, empty secrets", () => {
    const form = {
      ...emptyEnvironmentForm(),
      branch: "bad..branch",
      env: [
        { name: "A", value: "1" },
        { name: "A", value: "2" },
        { name: "1BAD", value: "x" },
      ],
      secrets: [
        { name: "lower", value: "v" },
        { name: "EMPTY", value: "" },
      ],
    };
    expect(toCreateRequest(form)).toEqual({
      ok: false,
      errors: {
        name: "Give the environment a name.",
        repository: "Enter a git URL or a path to a repository on the server.",
        "env.1.name": "A is set twice.",
        "env.2.name": "Is not a valid environment variable name",
        "secrets.0.name": "Use 1–64 of A–Z, 0–9 and _ (e.g. OPENAI_API_KEY)",
        "secrets.1.value": "Enter the secret's value.",
        branch: "Is not a valid git branch name",
      },
    });
  });
});

describe("toUpdateRequest", () => {
  it("sends only what changed; removed secrets as null, new values as strings", () => {
    const form = {
      ...environmentToForm(stored),
      setupScript: "npm ci && npm run build",
      network: "on" as const,
      secrets: [{ name: "DEPLOY_KEY", value: "k" }],
      removeSecrets: ["NPM_TOKEN"],
    };
    expect(toUpdateRequest(stored, form)).toEqual({
      ok: true,
      request: {
        setupScript: "npm ci && npm run build",
        network: "on",
        secrets: { DEPLOY_KEY: "k", NPM_TOKEN: null },
      },
    });
  });

  it("sends nothing for an untouched form, and the whole variable set when one changed", () => {
    expect(toUpdateRequest(stored, environmentToForm(stored))).toEqual({ ok: true, request: {} });
    const form = { ...environmentToForm(stored), env: [{ name: "CI", value: "true" }] };
    expect(toUpdateRequest(stored, form)).toEqual({ ok: true, request: { env: { CI: "true" } } });
  });
});

describe("applyTemplate", () => {
  it("takes the template's setup script and network policy, and a blank pick clears the template", () => {
    const templates = [
      {
        name: "node",
        label: "Node.js",
        description: "npm ci",
        setupScript: "npm ci",
        network: "on" as const,
      },
    ];
    const picked = applyTemplate(emptyEnvironmentForm(), templates, "node");
    expect(picked).toEqual({
      ...emptyEnvironmentForm(),
      template: "node",
      setupScript: "npm ci",
      network: "on",
    });
    expect(applyTemplate(picked, templates, "")).toEqual({ ...picked, template: "" });
  });
});
