// Reads an event timeline the way a person sees it: for each entry, the card's accessible name
// ("Agent message", "Command: echo hi", "Approval: …") and its visible text. Tests compare the whole
// transcript, so a doubled or missing event fails with the full list in the message.
import type { Locator, Page } from "playwright-core";

/** One card of a timeline. */
export interface TimelineCard {
  /** Its accessible name (`aria-label`). */
  name: string;
  /** Its visible text, whitespace collapsed. */
  text: string;
}

/** The timeline list called `name` (e.g. "Conversation", "Agent activity"). */
export function timelineList(page: Page | Locator, name: string): Locator {
  return page.getByRole("list", { name, exact: true });
}

/** The cards of the timeline list `list`, in order (turn markers and notices without a name skipped). */
export async function readTimeline(list: Locator): Promise<TimelineCard[]> {
  return list.evaluate((element) =>
    [...element.children].flatMap((entry) => {
      const card = entry.querySelector(":scope > [aria-label]");
      if (!(card instanceof HTMLElement)) return [];
      return [
        {
          name: card.getAttribute("aria-label") ?? "",
          // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what a person reads
          text: card.innerText.replace(/\s+/g, " ").trim(),
        },
      ];
    }),
  );
}
