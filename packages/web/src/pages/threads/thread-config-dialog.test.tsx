// @vitest-environment happy-dom
// The "New thread" dialog: it checks the configuration before creating the thread, names each field
// to fix, sends the chosen configuration, and shows why the server refused it.
import type { CreateThreadRequest, Environment } from "@kiln/protocol";
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { ThreadConfigDialog } from "./thread-config-dialog.tsx";

afterEach(cleanup);

const environment: Environment = {
  id: "env_01J0000000000000000000000A",
  name: "web",
  repository: "/srv/repos/web",
  branch: "main",
  setupScript: "",
  env: {},
  secretNames: [],
  network: "off",
  setupTimeoutMs: 600_000,
  pinned: false,
  taskCount: 0,
  createdAt: 1,
  updatedAt: 1,
};

function open(onSubmit: (r: CreateThreadRequest) => Promise<void>) {
  render(
    <ThreadConfigDialog open environments={[environment]} onSubmit={onSubmit} onClose={() => undefined} />,
  );
  return screen.getByRole("dialog", { name: "New thread" });
}

describe("ThreadConfigDialog", () => {
  it("creates a thread in an environment with the chosen model, sandbox and approval policy", async () => {
    const sent: CreateThreadRequest[] = [];
    const dialog = open(async (r) => void sent.push(r));
    fireEvent.change(within(dialog).getByLabelText("Title"), { target: { value: "Fix the flaky test" } });
    fireEvent.click(within(dialog).getByLabelText("A copy of an environment's repository"));
    fireEvent.change(within(dialog).getByLabelText("Environment"), { target: { value: environment.id } });
    fireEvent.change(within(dialog).getByLabelText("Model"), { target: { value: "gpt-test" } });
    fireEvent.change(within(dialog).getByLabelText("Sandbox"), { target: { value: "read-only" } });
    fireEvent.change(within(dialog).getByLabelText("Approval policy"), { target: { value: "untrusted" } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Create thread" }));
    await waitFor(() =>
      expect(sent).toEqual([
        {
          title: "Fix the flaky test",
          environmentId: environment.id,
          model: "gpt-test",
          sandbox: "read-only",
          approvalPolicy: "untrusted",
        },
      ]),
    );
  });

  it("names the field to fix and sends nothing while the configuration is incomplete", async () => {
    const sent: CreateThreadRequest[] = [];
    const dialog = open(async (r) => void sent.push(r));
    fireEvent.click(within(dialog).getByLabelText("A directory on the server"));
    fireEvent.change(within(dialog).getByLabelText("Working directory"), {
      target: { value: "relative/dir" },
    });
    fireEvent.click(within(dialog).getByRole("button", { name: "Create thread" }));
    const cwd = within(dialog).getByLabelText("Working directory");
    await waitFor(() => expect(cwd.getAttribute("aria-invalid")).toBe("true"));
    expect(within(dialog).getByRole("alert").textContent).toBe("Use an absolute path (starting with /).");
    expect(cwd.getAttribute("aria-describedby")).toBe(within(dialog).getByRole("alert").id);
    expect(sent).toEqual([]);
  });

  it("warns before an unsandboxed agent that never asks", () => {
    const dialog = open(async () => undefined);
    expect(within(dialog).queryByRole("note")).toBeNull();
    fireEvent.change(within(dialog).getByLabelText("Sandbox"), { target: { value: "danger-full-access" } });
    fireEvent.change(within(dialog).getByLabelText("Approval policy"), { target: { value: "never" } });
    expect(within(dialog).getByRole("note").textContent).toBe(
      "The agent will run any command on the server without a sandbox and without asking.",
    );
  });

  it("shows why the server refused to create the thread, and stays open to try again", async () => {
    const dialog = open(async () => {
      throw new Error("cwd /etc is outside the server's workspace roots");
    });
    fireEvent.click(within(dialog).getByRole("button", { name: "Create thread" }));
    await waitFor(() =>
      expect(within(dialog).getByRole("alert").textContent).toBe(
        "Could not create the thread: cwd /etc is outside the server's workspace roots",
      ),
    );
    expect(
      (within(dialog).getByRole("button", { name: "Create thread" }) as HTMLButtonElement).disabled,
    ).toBe(false);
  });
});
