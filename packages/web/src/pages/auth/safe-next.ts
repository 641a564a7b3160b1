// Where to go after signing in: the `next` parameter, only when it is a path of this app (never
// another site: `//evil.example` and `https://…` are refused).

/** `next` if it is a local path, else `/tasks`. */
export function safeNext(next: string | null): string {
  if (next === null || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\"))
    return "/tasks";
  if (next.startsWith("/sign-in") || next.startsWith("/setup")) return "/tasks";
  return next;
}
