// Things a person does in the app, shared by the browser tests: go somewhere through the navigation,
// make a chat thread in the "New thread" dialog, send a message. Every step finds controls by role and
// accessible name (which is also the check that they are labelled).
import type { Page } from "playwright-core";

/** Follows the main navigation's link `label` (opening the Menu first on a narrow screen). */
export async function goTo(page: Page, label: string): Promise<void> {
  const nav = page.getByRole("navigation", { name: "Main" });
  const link = nav.getByRole("link", { name: label, exact: true });
  const menu = page.getByRole("button", { name: "Menu" });
  // Wide: the link shows once the app has loaded; narrow: the Menu button does, and opens the links.
  await link.or(menu).first().waitFor();
  if (!(await link.isVisible())) await menu.click();
  await link.click();
}

/** Options of {@link createThreadInUi}. */
export interface NewThread {
  title: string;
  /** The "Approval policy" option's text (default: the dialog's default). */
  approvalPolicy?: string;
}

/** Opens Threads → New thread, fills the dialog, creates it; resolves with the new thread's id. */
export async function createThreadInUi(page: Page, thread: NewThread): Promise<string> {
  await goTo(page, "Threads");
  await page.getByRole("button", { name: "New thread" }).click();
  const dialog = page.getByRole("dialog", { name: "New thread" });
  await dialog.getByLabel("Title").fill(thread.title);
  await dialog.getByRole("radio", { name: "A fresh workspace" }).check();
  if (thread.approvalPolicy !== undefined) {
    await dialog.getByLabel("Approval policy").selectOption({ label: thread.approvalPolicy });
  }
  await dialog.getByRole("button", { name: "Create thread" }).click();
  await page.waitForURL(/\/threads\/[^/]+$/);
  const id = new URL(page.url()).pathname.split("/").at(-1);
  if (id === undefined || id === "") throw new Error(`no thread id in ${page.url()}`);
  return decodeURIComponent(id);
}

/** Types `text` into the chat composer and sends it (the Send button: no turn is running). */
export async function sendMessage(page: Page, text: string): Promise<void> {
  const composer = page.getByRole("form", { name: "Message the agent" });
  await composer.getByRole("textbox", { name: "Message" }).fill(text);
  await composer.getByRole("button", { name: "Send", exact: true }).click();
}
