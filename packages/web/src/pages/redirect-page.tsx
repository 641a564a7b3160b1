// `/`: the task list is the home page.
import { useEffect } from "react";
import { navigate } from "../router/router.tsx";

/** Sends `/` to `/tasks`. */
export function RedirectPage() {
  useEffect(() => navigate("/tasks", { replace: true }), []);
  return null;
}
