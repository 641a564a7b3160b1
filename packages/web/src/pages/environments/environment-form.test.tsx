// @vitest-environment happy-dom
// The environment form: a template fills the setup script and network; rows add variables and
// write-only secrets; an edit sends only the changes, stored secrets by name only.
import type { Environment, EnvironmentTemplate } from "@kiln/protocol";
import type { CreateEnvironmentInput, UpdateEnvironmentInput } from "@kiln/sdk";
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { EnvironmentForm } from "./environment-form.tsx";

afterEach(cleanup);

const templates: EnvironmentTemplate[] = [
  { name: "node", label: "Node.js", description: "npm ci", setupScript: "npm ci", network: "on" },
];

const stored: Environment = {
  id: "env_1",
  name: "web",
  repository: "/srv/repos/web",
  branch: "main",
  setupScript: "npm ci",
  env: {},
  secretNames: ["NPM_TOKEN"],
  network: "off",
  setupTimeoutMs: 600_000,
  pinned: false,
  taskCount: 2,
  createdAt: 1,
  updatedAt: 1,
};

const type = (label: string, value: string) =>
  fireEvent.change(screen.getByLabelText(label), { target: { value } });

describe("EnvironmentForm", () => {
  it("creates an environment from a template with a variable and a secret", async () => {
    const sent: CreateEnvironmentInput[] = [];
    render(
      <EnvironmentForm
        templates={templates}
        onSubmit={async (r) => void sent.push(r)}
        onCancel={() => undefined}
      />,
    );
    expect(screen.getByRole("form", { name: "New environment" })).toBeTruthy();
    type("Name", "web");
    type("Repository", "https://example.com/web.git");
    type("Template", "node");
    expect((screen.getByLabelText("Setup script") as HTMLTextAreaElement).value).toBe("npm ci");
    expect((screen.getByLabelText("Network access for the agent") as HTMLInputElement).checked).toBe(true);
    fireEvent.click(screen.getByRole("button", { name: "Add variable" }));
    type("Variable 1 name", "CI");
    type("Variable 1 value", "1");
    fireEvent.click(screen.getByRole("button", { name: "Add secret" }));
    type("Secret 1 name", "NPM_TOKEN");
    type("Secret 1 value", "s3cret");
    expect((screen.getByLabelText("Secret 1 value") as HTMLInputElement).type).toBe("password");
    fireEvent.click(screen.getByRole("button", { name: "Create environment" }));
    await waitFor(() =>
      expect(sent).toEqual([
        {
          name: "web",
          repository: "https://example.com/web.git",
          branch: "main",
          template: "node",
          setupScript: "npm ci",
          network: "on",
          env: { CI: "1" },
          secrets: { NPM_TOKEN: "s3cret" },
        },
      ]),
    );
  });

  it("shows what to fix next to each field and sends nothing", async () => {
    const sent: CreateEnvironmentInput[] = [];
    render(
      <EnvironmentForm
        templates={templates}
        onSubmit={async (r) => void sent.push(r)}
        onCancel={() => undefined}
      />,
    );
    fireEvent.click(screen.getByRole("button", { name: "Add secret" }));
    type("Secret 1 name", "TOKEN");
    fireEvent.click(screen.getByRole("button", { name: "Create environment" }));
    await waitFor(() =>
      expect(screen.getAllByRole("alert").map((a) => a.textContent)).toEqual([
        "Give the environment a name.",
        "Enter a git URL or a path to a repository on the server.",
        "Enter the secret's value.",
      ]),
    );
    expect(screen.getByLabelText("Name").getAttribute("aria-invalid")).toBe("true");
    expect(sent).toEqual([]);
  });

  it("edits: lists stored secrets by name and sends only the changes", async () => {
    const sent: UpdateEnvironmentInput[] = [];
    render(
      <EnvironmentForm
        templates={templates}
        environment={stored}
        onSubmit={async (r) => void sent.push(r)}
        onCancel={() => undefined}
      />,
    );
    expect(screen.getByRole("form", { name: "Edit web" })).toBeTruthy();
    expect(screen.queryByLabelText("Template")).toBeNull();
    expect(screen.getByRole("list", { name: "Stored secrets" }).textContent).toContain("NPM_TOKEN");
    fireEvent.click(screen.getByLabelText("Remove NPM_TOKEN"));
    type("Branch", "develop");
    fireEvent.click(screen.getByRole("button", { name: "Save changes" }));
    await waitFor(() => expect(sent).toEqual([{ branch: "develop", secrets: { NPM_TOKEN: null } }]));
  });
});
