// `/tasks/new`: the new-task form on its own page.
import { useClient } from "../../app-context.tsx";
import { ErrorAlert } from "../../components/error-alert.tsx";
import { usePolled } from "../../lib/use-polled.ts";
import { NewTaskForm } from "./new-task-form.tsx";

/** The new-task page. */
export function NewTaskPage() {
  const client = useClient();
  const environments = usePolled((signal) => client.environments.list({ signal }), [client]);
  return (
    <section className="page narrow">
      <h1>New task</h1>
      <ErrorAlert error={environments.error} prefix="Could not load the environments" />
      <NewTaskForm environments={environments.data} autoFocus />
    </section>
  );
}
