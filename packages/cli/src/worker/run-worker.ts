// `kiln worker`: a node that runs turns for Restate. Sequence: parse options → open the shared store
// (PostgreSQL) → a Kiln with this machine's configuration ($KILN_HOME/config.toml) → serve the Restate
// endpoint (the KilnThread virtual object) → register it with Restate's admin API (as --advertise, the
// address Restate reaches the workers at) → run until SIGINT/SIGTERM (or `signal`), then stop serving
// and close the store. A turn running when the worker stops is continued by Restate on another worker.
// Given request identity keys, the endpoint serves only requests restate-server signed with a matching
// private key. `kiln worker identity-key` makes or reads such a key (run-identity-key.ts).
import { parseArgs } from "node:util";
import { Kiln, kilnHomeFrom } from "@kiln/core";
import {
  createCheckpointSync,
  createPgEventNotifier,
  createWorkspaceCheckpointer,
  parseIdentityPublicKey,
  registerDeployment,
  startDurableWorker,
} from "@kiln/durable";
import { KilnError } from "@kiln/protocol";
import { type KilnStore, openStore } from "@kiln/store";
import type { CliIo } from "../exec/run-exec.ts";

const HELP = `Usage: kiln worker --restate-admin URL --db postgres://… [--port 9080] [--host 127.0.0.1] [--advertise URL]
                   [--workspaces shared|checkpoint] [--restate-identity-key KEY]…
       kiln worker identity-key --out FILE | --private-key FILE

Runs turns for a Kiln cluster on Restate: serves the KilnThread virtual object (one turn at a time per
thread; each model call and tool call a journaled step) and registers itself with Restate.

  --restate-admin URL  Restate's admin API, e.g. http://restate:9070
  --db URL             The shared PostgreSQL database (the API nodes' --db)
  --port N             Port of the Restate endpoint (default 9080; 0 picks a free one)
  --host ADDR          Address to bind (default 127.0.0.1; 0.0.0.0 in a container)
  --advertise URL      The address Restate calls workers at (default http://HOST:PORT). With several
                       workers, give them all one address (a load balancer or Kubernetes Service):
                       Restate continues a turn at the address it started on.
  --no-register        Serve only (register the address once, e.g. from a deploy job)
  --restate-identity-key KEY
                       Serve only requests signed by restate-server with the private key of this
                       public key (publickeyv1_…); repeat it to accept an old and a new key while
                       rotating. Default: $KILN_RESTATE_IDENTITY_KEYS (comma-separated). Without a
                       key the worker runs what anyone who reaches its port sends: restrict access.
                       \`kiln worker identity-key --out FILE\` makes a key pair.

  --workspaces MODE    Where thread workspaces (cwd) live: "shared" (default), a volume every worker
                       mounts at the same path; or "checkpoint", node-local disks: each mutating step
                       saves the workspace to the database, and a worker taking a turn over restores
                       it first (see docs/scale.md)

Model settings come from $KILN_HOME/config.toml, as for kiln exec. Give workers the API nodes'
KILN_SECRET_KEY so that users' own provider keys (their secrets) are used for their turns.`;

/** Parsed `kiln worker` options. */
export interface WorkerArgs {
  restateAdmin: string;
  db: string;
  port: number;
  host: string;
  advertise: string | undefined;
  register: boolean;
  /** Where thread workspaces live: a volume every worker mounts, or node-local disks + checkpoints. */
  workspaces: "shared" | "checkpoint";
  /** Request identity public keys (`publickeyv1_…`), from the flags and $KILN_RESTATE_IDENTITY_KEYS. */
  identityKeys: string[];
}

/** A bad command line (exit 2). */
export class WorkerUsageError extends Error {}

/** Parses `kiln worker` arguments (and $KILN_RESTATE_IDENTITY_KEYS); `undefined` for --help. */
export function parseWorkerArgs(
  argv: string[],
  env: Record<string, string | undefined> = {},
): WorkerArgs | undefined {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    values = parseArgs({
      args: argv,
      options: {
        "restate-admin": { type: "string" },
        db: { type: "string" },
        port: { type: "string" },
        host: { type: "string" },
        advertise: { type: "string" },
        "no-register": { type: "boolean" },
        workspaces: { type: "string" },
        "restate-identity-key": { type: "string", multiple: true },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    throw new WorkerUsageError((error as Error).message);
  }
  if (values.help === true) return undefined;
  const admin = values["restate-admin"];
  if (typeof admin !== "string" || !/^https?:\/\//.test(admin))
    throw new WorkerUsageError(
      "--restate-admin URL is required (Restate's admin API, e.g. http://restate:9070)",
    );
  const db = values.db;
  if (typeof db !== "string" || !/^postgres(ql)?:\/\//.test(db))
    throw new WorkerUsageError(
      "--db postgres://… is required: workers share the API nodes' PostgreSQL database",
    );
  const port = Number(values.port ?? "9080");
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new WorkerUsageError(`--port must be a port number (0–65535), not "${String(values.port)}"`);
  const advertise = values.advertise;
  if (advertise !== undefined && (typeof advertise !== "string" || !/^https?:\/\//.test(advertise)))
    throw new WorkerUsageError(`--advertise must be an http(s) URL, not "${String(advertise)}"`);
  // The flags replace the environment's keys (as flags do), they do not add to them.
  const flagged = values["restate-identity-key"];
  const identityKeys = (Array.isArray(flagged) ? flagged : (env.KILN_RESTATE_IDENTITY_KEYS ?? "").split(","))
    .map((key) => key.trim())
    .filter((key) => key !== "");
  for (const key of identityKeys) {
    try {
      parseIdentityPublicKey(key);
    } catch (error) {
      if (error instanceof KilnError) throw new WorkerUsageError(error.message);
      throw error;
    }
  }
  const workspaces = values.workspaces ?? "shared";
  if (workspaces !== "shared" && workspaces !== "checkpoint")
    throw new WorkerUsageError(`--workspaces must be "shared" or "checkpoint", not "${String(workspaces)}"`);
  return {
    restateAdmin: admin,
    workspaces,
    db,
    port,
    host: typeof values.host === "string" ? values.host : "127.0.0.1",
    advertise,
    register: values["no-register"] !== true,
    identityKeys: [...new Set(identityKeys)],
  };
}

/** Runs a worker until SIGINT/SIGTERM or `signal`; resolves to the exit code. */
export async function runWorker(io: CliIo, signal?: AbortSignal): Promise<number> {
  if (io.argv[0] === "identity-key")
    return (await import("./run-identity-key.ts")).runIdentityKey({ ...io, argv: io.argv.slice(1) });
  let args: WorkerArgs | undefined;
  try {
    args = parseWorkerArgs(io.argv, io.env);
  } catch (error) {
    if (!(error instanceof WorkerUsageError)) throw error;
    io.stderr.write(`kiln worker: ${error.message}\n\n${HELP}\n`);
    return 2;
  }
  if (args === undefined) {
    io.stdout.write(`${HELP}\n`);
    return 0;
  }
  const say = (line: string) => io.stderr.write(`kiln worker: ${line}\n`);
  const store = await openStore(args.db);
  const kiln = new Kiln({ env: io.env, cwd: io.cwd });
  const kilnFor = await userKilns(io, store).catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  const notifier = createPgEventNotifier(args.db);
  const worker = await startDurableWorker({
    store,
    kiln,
    notifier,
    port: args.port,
    host: args.host,
    identityKeys: args.identityKeys,
    ...(kilnFor === undefined ? {} : { kilnFor }),
    ...(args.workspaces === "checkpoint"
      ? { workspaces: createCheckpointSync(createWorkspaceCheckpointer(store), store) }
      : {}),
  }).catch(async (error: unknown) => {
    await notifier.close();
    await store.close();
    throw error;
  });
  const advertised = args.advertise ?? worker.url;
  try {
    if (args.register) await registerDeployment(args.restateAdmin, advertised, signal);
  } catch (error) {
    await worker.close();
    await notifier.close();
    await store.close();
    throw error;
  }
  if (kilnFor === undefined)
    say(
      "KILN_SECRET_KEY is not set: users' own provider keys (their secrets) are not used here, only this worker's",
    );
  const keys = args.identityKeys.length;
  say(
    keys > 0
      ? `serving only requests signed by restate-server (${keys} identity key${keys === 1 ? "" : "s"})`
      : "serving unsigned requests: anyone who reaches this port can run turns (see --restate-identity-key)",
  );
  say(
    `serving on ${worker.url}${args.register ? `, registered with ${args.restateAdmin} as ${advertised}` : ""}`,
  );
  let onSignal: (name: NodeJS.Signals) => void = () => undefined;
  const stopped = await new Promise<string>((done) => {
    onSignal = done;
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    if (signal?.aborted === true) done("abort");
    signal?.addEventListener("abort", () => done("abort"), { once: true });
  });
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
  say(`${stopped}: stopping (Restate continues running turns on another worker)`);
  await worker.close();
  await notifier.close();
  await store.close();
  return 0;
}

/**
 * With the API nodes' KILN_SECRET_KEY, a user's threads run with the user's own provider keys (their
 * secrets, decrypted here) over this worker's, as on a single node; without it, with this worker's.
 */
async function userKilns(
  io: CliIo,
  store: KilnStore,
): Promise<((user: { userId: string }) => Promise<Kiln>) | undefined> {
  const text = io.env.KILN_SECRET_KEY;
  if (text === undefined || text === "") return undefined;
  const { createKilnFactory, createSecretBox, createUserSecrets, decodeKey, providerKeysOf } = await import(
    "@kiln/server"
  );
  const secrets = createUserSecrets({ store, box: createSecretBox(decodeKey(text, "KILN_SECRET_KEY")) });
  return createKilnFactory({
    kilnHome: kilnHomeFrom(io.env),
    env: io.env,
    cwd: io.cwd,
    userEnv: providerKeysOf(secrets),
  });
}
