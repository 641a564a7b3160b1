// Light and dark themes: the system's preference (prefers-color-scheme) until the user picks one,
// which is kept in localStorage. The chosen theme is `data-theme` on <html>; styles.css does the rest.
import { useCallback, useEffect, useState } from "react";

/** A theme. */
export type Theme = "light" | "dark";

const KEY = "kiln.theme";

function stored(): Theme | undefined {
  try {
    const value = window.localStorage.getItem(KEY);
    return value === "light" || value === "dark" ? value : undefined;
  } catch {
    return undefined;
  }
}

function systemTheme(): Theme {
  return window.matchMedia?.("(prefers-color-scheme: dark)").matches === true ? "dark" : "light";
}

/** Sets `data-theme` on <html> from the saved choice or the system (call before the first render). */
export function applyInitialTheme(): void {
  document.documentElement.dataset.theme = stored() ?? systemTheme();
}

/** The theme in use, and a function that switches (and saves) it. */
export function useTheme(): [Theme, (theme: Theme) => void] {
  const [theme, setTheme] = useState<Theme>(() => stored() ?? systemTheme());
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);
  useEffect(() => {
    // Follow the system while the user has not chosen.
    const query = window.matchMedia?.("(prefers-color-scheme: dark)");
    if (query === undefined) return;
    const onChange = () => {
      if (stored() === undefined) setTheme(query.matches ? "dark" : "light");
    };
    query.addEventListener("change", onChange);
    return () => query.removeEventListener("change", onChange);
  }, []);
  const choose = useCallback((next: Theme) => {
    try {
      window.localStorage.setItem(KEY, next);
    } catch {
      // Private mode: the choice lasts for this page only.
    }
    setTheme(next);
  }, []);
  return [theme, choose];
}
