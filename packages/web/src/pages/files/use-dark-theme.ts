// Whether the app shows its dark theme now: `data-theme` on <html> (set by the shell's theme switch),
// followed as it changes, so that the editor and the terminal switch colours with the page.
import { useSyncExternalStore } from "react";

function subscribe(onChange: () => void): () => void {
  const observer = new MutationObserver(onChange);
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
  return () => observer.disconnect();
}

const isDark = () => document.documentElement.dataset.theme === "dark";

/** True while the page's theme is dark. */
export function useDarkTheme(): boolean {
  return useSyncExternalStore(subscribe, isDark, isDark);
}
