// The options of `kiln serve`.
import { parseArgs } from "node:util";

/** Parsed `kiln serve` options. */
export interface ServeArgs {
  port: number;
  host: string;
  /** Default `$KILN_HOME/server` (~/.kiln/server). */
  dataDir: string | undefined;
  /** A database URL; default a SQLite file in the data directory. */
  db: string | undefined;
  workspaceRoots: string[];
  help: boolean;
}

/** A bad command line (exit 2). */
export class ServeUsageError extends Error {}

/** Parses `kiln serve` arguments. */
export function parseServeArgs(argv: string[]): ServeArgs {
  let values: ReturnType<typeof parse>["values"];
  try {
    values = parse(argv).values;
  } catch (error) {
    throw new ServeUsageError((error as Error).message);
  }
  const port = Number(values.port ?? "8787");
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new ServeUsageError(`--port must be a port number (0–65535), not "${values.port}"`);
  }
  return {
    port,
    host: values.host ?? "127.0.0.1",
    dataDir: values["data-dir"],
    db: values.db,
    workspaceRoots: values["workspace-root"] ?? [],
    help: values.help ?? false,
  };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: false,
    strict: true,
    options: {
      port: { type: "string", short: "p" },
      host: { type: "string" },
      "data-dir": { type: "string" },
      db: { type: "string" },
      "workspace-root": { type: "string", multiple: true },
      help: { type: "boolean", short: "h" },
    },
  });
}
