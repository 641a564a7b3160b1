// `kiln worker identity-key`: the keys of Restate's request signing. restate-server signs its requests
// to workers with an Ed25519 private key; workers verify them with its public key
// (--restate-identity-key). With --out FILE it makes a new private key (PEM, mode 0600; an existing file
// is never overwritten); with --private-key FILE it reads an existing one. Either way the public key is
// the only thing on stdout, so that a script can capture it.
import { readFile, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { generateRequestIdentity, publicKeyFromPrivatePem } from "@kiln/durable";
import { KilnError } from "@kiln/protocol";
import type { CliIo } from "../exec/run-exec.ts";

const HELP = `Usage: kiln worker identity-key --out FILE
       kiln worker identity-key --private-key FILE

Request signing between restate-server and workers: restate-server signs each request to a worker with
an Ed25519 private key, and workers serve only requests signed by a key they are given.

  --out FILE          Create a new private key in FILE (PEM, mode 0600; FILE must not exist) and print
                      its public key
  --private-key FILE  Print the public key of an existing Ed25519 private key (PEM)

Then give restate-server the private key:
  [worker.invoker]
  request-identity-private-key-pem-file = "/path/to/FILE"
and every worker the public key: kiln worker --restate-identity-key publickeyv1_… (or
KILN_RESTATE_IDENTITY_KEYS=publickeyv1_…,publickeyv1_… while rotating keys).`;

/** Runs `kiln worker identity-key`; resolves to the exit code. */
export async function runIdentityKey(io: CliIo): Promise<number> {
  let values: { out?: string; "private-key"?: string; help?: boolean };
  try {
    values = parseArgs({
      args: io.argv,
      options: {
        out: { type: "string" },
        "private-key": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    return usage(io, (error as Error).message);
  }
  if (values.help === true) {
    io.stdout.write(`${HELP}\n`);
    return 0;
  }
  const { out, "private-key": existing } = values;
  if ((out === undefined) === (existing === undefined))
    return usage(io, "give either --out FILE (a new key) or --private-key FILE (an existing key)");
  if (existing !== undefined) {
    const path = resolve(io.cwd, existing);
    const pem = await readFile(path, "utf8").catch((error: NodeJS.ErrnoException) => {
      throw new KilnError("config_invalid", `cannot read the private key ${path}: ${error.message}`);
    });
    io.stdout.write(`${publicKeyFromPrivatePem(pem)}\n`);
    return 0;
  }
  const path = resolve(io.cwd, out ?? "");
  const identity = generateRequestIdentity();
  // "wx": a key in use is never replaced by accident (workers would then refuse restate-server).
  await writeFile(path, identity.privateKeyPem, { mode: 0o600, flag: "wx" }).catch(
    (error: NodeJS.ErrnoException) => {
      throw new KilnError(
        "config_invalid",
        error.code === "EEXIST"
          ? `${path} already exists: choose another --out file, or print its public key with --private-key ${path}`
          : `cannot write the private key to ${path}: ${error.message}`,
      );
    },
  );
  io.stderr.write(
    `kiln worker: wrote a new private key to ${path}; give it to restate-server ([worker.invoker] request-identity-private-key-pem-file) and the public key below to every worker (--restate-identity-key)\n`,
  );
  io.stdout.write(`${identity.publicKey}\n`);
  return 0;
}

function usage(io: CliIo, message: string): number {
  io.stderr.write(`kiln worker identity-key: ${message}\n\n${HELP}\n`);
  return 2;
}
