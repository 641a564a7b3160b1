// What every page reaches through context: the SDK client (the only way to the server), the browser
// session, and the signed-in user.
import type { PublicUser } from "@kiln/protocol";
import type { BrowserSession, KilnClient, SessionUser } from "@kiln/sdk";
import { createContext, useContext } from "react";

/** The signed-in user (as /auth/me or a sign-in gave it). */
export type AppUser = SessionUser | PublicUser;

/** The app's shared state. */
export interface AppContextValue {
  client: KilnClient;
  session: BrowserSession;
  user: AppUser | undefined;
  /** After a sign-in or setup. */
  signedIn(user: AppUser): void;
  /** Ends the session on the server and shows the sign-in page. */
  signOut(): Promise<void>;
}

/** The app's context (provided by <App>). */
export const AppContext = createContext<AppContextValue | undefined>(undefined);

/** The app's context; throws outside <App>. */
export function useApp(): AppContextValue {
  const value = useContext(AppContext);
  if (value === undefined) throw new Error("useApp() must be used inside <App>");
  return value;
}

/** The SDK client: every page talks to the server through it. */
export function useClient(): KilnClient {
  return useApp().client;
}

/** The signed-in user (undefined on the public pages). */
export function useUser(): AppUser | undefined {
  return useApp().user;
}
