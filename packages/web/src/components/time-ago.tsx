// "5 min ago", kept current, with the exact time in its tooltip and `datetime`.
import { useEffect, useState } from "react";
import { formatAge } from "../lib/format.ts";

/** A relative time, refreshed every 30 s. */
export function TimeAgo({ at }: { at: number }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 30_000);
    return () => clearInterval(timer);
  }, []);
  const date = new Date(at);
  return (
    <time dateTime={date.toISOString()} title={date.toLocaleString()}>
      {formatAge(at, now)}
    </time>
  );
}
