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
  /** Where turns run: in this process, or on Restate workers (an API node). */
  engine: ServeEngine;
  help: boolean;
}

/** Where `kiln serve` runs turns. */
export type ServeEngine = { type: "local" } | { type: "restate"; ingressUrl: string; adminUrl: string };

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
  const engine = parseEngine(values);
  return {
    port,
    host: values.host ?? "127.0.0.1",
    dataDir: values["data-dir"],
    db: values.db,
    workspaceRoots: values["workspace-root"] ?? [],
    engine,
    help: values.help ?? false,
  };
}

function parseEngine(values: ReturnType<typeof parse>["values"]): ServeEngine {
  const ingress = values["restate-ingress"];
  const admin = values["restate-admin"];
  const engine = values.engine ?? (ingress !== undefined || admin !== undefined ? "restate" : "local");
  if (engine === "local") {
    if (ingress !== undefined || admin !== undefined)
      throw new ServeUsageError("--restate-ingress and --restate-admin go with --engine restate");
    return { type: "local" };
  }
  if (engine !== "restate")
    throw new ServeUsageError(`--engine must be "local" or "restate", not "${engine}"`);
  if (ingress === undefined || !/^https?:\/\//.test(ingress))
    throw new ServeUsageError(
      "--engine restate needs --restate-ingress URL (Restate's ingress, e.g. http://restate:8080)",
    );
  if (admin === undefined || !/^https?:\/\//.test(admin))
    throw new ServeUsageError(
      "--engine restate needs --restate-admin URL (Restate's admin API, e.g. http://restate:9070)",
    );
  if (values.db === undefined || !/^postgres(ql)?:\/\//.test(values.db))
    throw new ServeUsageError(
      "--engine restate needs --db postgres://…: API nodes and workers share one PostgreSQL database",
    );
  return { type: "restate", ingressUrl: ingress, adminUrl: admin };
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
      engine: { type: "string" },
      "restate-ingress": { type: "string" },
      "restate-admin": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
}
