// @vitest-environment happy-dom
// The composer: Enter sends and clears, Shift+Enter does not send, a failed send keeps the text and
// says why; while a turn runs it steers and offers Stop.
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { ChatComposer } from "./chat-composer.tsx";

afterEach(cleanup);

function box() {
  return screen.getByRole("textbox", { name: "Message" }) as HTMLTextAreaElement;
}

describe("ChatComposer", () => {
  it("sends on Enter and clears the box; Shift+Enter does not send", async () => {
    const sent: string[] = [];
    render(
      <ChatComposer running={false} onSend={async (t) => void sent.push(t)} onStop={async () => undefined} />,
    );
    fireEvent.change(box(), { target: { value: "list the files" } });
    fireEvent.keyDown(box(), { key: "Enter", shiftKey: true });
    expect(sent).toEqual([]);
    fireEvent.keyDown(box(), { key: "Enter" });
    await waitFor(() => expect(sent).toEqual(["list the files"]));
    await waitFor(() => expect(box().value).toBe(""));
    expect(screen.queryByRole("button", { name: "Stop" })).toBeNull();
    expect(screen.getByRole("button", { name: "Send" })).toBeTruthy();
  });

  it("keeps the text and shows why when sending fails", async () => {
    render(
      <ChatComposer
        running={false}
        onSend={async () => {
          throw new Error("a turn is already running");
        }}
        onStop={async () => undefined}
      />,
    );
    fireEvent.change(box(), { target: { value: "hello" } });
    fireEvent.click(screen.getByRole("button", { name: "Send" }));
    await waitFor(() => expect(screen.getByRole("alert").textContent).toBe("a turn is already running"));
    expect(box().value).toBe("hello");
  });

  it("steers the running turn and stops it", async () => {
    const calls: string[] = [];
    render(
      <ChatComposer
        running
        onSend={async (t) => void calls.push(`send ${t}`)}
        onStop={async () => void calls.push("stop")}
      />,
    );
    fireEvent.change(box(), { target: { value: "use pnpm" } });
    fireEvent.click(screen.getByRole("button", { name: "Steer" }));
    await waitFor(() => expect(calls).toEqual(["send use pnpm"]));
    fireEvent.click(screen.getByRole("button", { name: "Stop" }));
    await waitFor(() => expect(calls).toEqual(["send use pnpm", "stop"]));
  });

  it("sends nothing blank", () => {
    const sent: string[] = [];
    render(
      <ChatComposer running={false} onSend={async (t) => void sent.push(t)} onStop={async () => undefined} />,
    );
    fireEvent.change(box(), { target: { value: "   " } });
    fireEvent.keyDown(box(), { key: "Enter" });
    expect(sent).toEqual([]);
    expect((screen.getByRole("button", { name: "Send" }) as HTMLButtonElement).disabled).toBe(true);
  });
});
