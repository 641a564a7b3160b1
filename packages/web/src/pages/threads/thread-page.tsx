// Route `/threads/:id`: one chat thread.
import { useClient } from "../../app-context.tsx";
import type { PageProps } from "../../routes.tsx";
import { ThreadChatView } from "./thread-chat-view.tsx";

/** The chat page of thread `params.id`. */
export function ThreadPage({ params }: PageProps) {
  const id = params.id ?? "";
  return <ThreadChatView key={id} client={useClient()} threadId={id} />;
}
