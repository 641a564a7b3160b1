// Route `/settings`.
import { useClient } from "../../app-context.tsx";
import type { PageProps } from "../../routes.tsx";
import { SettingsView } from "./settings-view.tsx";

/** The settings page. */
export function SettingsPage(_props: PageProps) {
  return <SettingsView client={useClient()} />;
}
