// Route `/environments`.
import { useClient } from "../../app-context.tsx";
import type { PageProps } from "../../routes.tsx";
import { EnvironmentsView } from "./environments-view.tsx";

/** The environments page. */
export function EnvironmentsPage(_props: PageProps) {
  return <EnvironmentsView client={useClient()} />;
}
