// Route `/usage`.
import { useClient } from "../../app-context.tsx";
import type { PageProps } from "../../routes.tsx";
import { UsageView } from "./usage-view.tsx";

/** The usage page. */
export function UsagePage(_props: PageProps) {
  return <UsageView client={useClient()} />;
}
