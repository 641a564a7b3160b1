// A path no route matches.
import { Link } from "../router/router.tsx";

/** "Page not found", with a way back. */
export function NotFoundPage({ pathname }: { pathname: string }) {
  return (
    <section className="page narrow">
      <h1>Page not found</h1>
      <p>
        There is no page at <code>{pathname}</code>. <Link to="/tasks">Go to the tasks</Link>.
      </p>
    </section>
  );
}
