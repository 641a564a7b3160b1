// A small router on the History API: the location as React state, navigate(), <Link>, and path
// patterns with `:params`. The app's routes are a table (../routes.tsx), matched in order.
import { type AnchorHTMLAttributes, forwardRef, type MouseEvent, useSyncExternalStore } from "react";

/** Where the app is. */
export interface AppLocation {
  pathname: string;
  search: string;
  hash: string;
}

const CHANGE = "kiln:navigate";

function subscribe(onChange: () => void): () => void {
  window.addEventListener("popstate", onChange);
  window.addEventListener(CHANGE, onChange);
  return () => {
    window.removeEventListener("popstate", onChange);
    window.removeEventListener(CHANGE, onChange);
  };
}

const snapshot = () => `${window.location.pathname}${window.location.search}${window.location.hash}`;

/** The current location; re-renders when it changes. */
export function useLocation(): AppLocation {
  const href = useSyncExternalStore(subscribe, snapshot, snapshot);
  const url = new URL(href, "http://app");
  return { pathname: url.pathname, search: url.search, hash: url.hash };
}

/** The current query string's parameters. */
export function useSearchParams(): URLSearchParams {
  return new URLSearchParams(useLocation().search);
}

/** Goes to `to` (a path, with query and hash if any); `replace` leaves no history entry. */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === snapshot()) return;
  if (options.replace === true) window.history.replaceState(null, "", to);
  else window.history.pushState(null, "", to);
  window.dispatchEvent(new Event(CHANGE));
}

/** Props of {@link Link}. */
export interface LinkProps extends Omit<AnchorHTMLAttributes<HTMLAnchorElement>, "href"> {
  /** An app path, e.g. `/tasks/task_123`. */
  to: string;
  replace?: boolean;
}

/** An `<a>` that navigates inside the app (a modified click still opens a new tab). */
export const Link = forwardRef<HTMLAnchorElement, LinkProps>(function Link(
  { to, replace, onClick, ...rest },
  ref,
) {
  const click = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    if (rest.target !== undefined && rest.target !== "_self") return;
    event.preventDefault();
    navigate(to, replace === true ? { replace } : {});
  };
  return <a ref={ref} href={to} onClick={click} {...rest} />;
});

/** The params of `pathname` if it matches `pattern` (`/tasks/:id`), else undefined. */
export function matchPath(pattern: string, pathname: string): Record<string, string> | undefined {
  const want = pattern.split("/").filter(Boolean);
  const have = pathname.split("/").filter(Boolean);
  if (want.length !== have.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const part = want[i]!;
    const value = have[i]!;
    if (part.startsWith(":")) {
      try {
        params[part.slice(1)] = decodeURIComponent(value);
      } catch {
        return undefined;
      }
    } else if (part !== value) {
      return undefined;
    }
  }
  return params;
}
