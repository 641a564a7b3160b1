// Route `/threads`: the chat threads.
import { useClient } from "../../app-context.tsx";
import { navigate } from "../../router/router.tsx";
import type { PageProps } from "../../routes.tsx";
import { ThreadListView } from "./thread-list-view.tsx";

/** The thread list page. */
export function ThreadListPage(_props: PageProps) {
  return <ThreadListView client={useClient()} navigate={navigate} />;
}
