// An error for the user: what happened (the server's message says what to do).
import { errorMessage } from "../lib/format.ts";

/** An inline error (role alert), or nothing without an error. */
export function ErrorAlert({ error, prefix }: { error: unknown; prefix?: string }) {
  if (error === undefined || error === null) return null;
  return (
    <p className="error" role="alert">
      {prefix === undefined ? "" : `${prefix}: `}
      {errorMessage(error)}
    </p>
  );
}
