// Starts restate-server from the npm package `@restatedev/restate-server` (its platform package holds
// the binary) on loopback, with its data under `baseDir`: for tests, benchmarks and a one-machine
// setup. Every listener (ingress, admin, the node-to-node fabric) is bound to 127.0.0.1 explicitly:
// the server's defaults listen on all interfaces. Given a request identity key, the server signs every
// request to its deployments with it (see request-identity.ts).
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { KilnError } from "@kiln/protocol";
import { publicKeyFromPrivatePem } from "./request-identity.ts";

/** Where the server keeps its data and which ports it takes (0 or absent: free ones). */
export interface RestateServerOptions {
  baseDir: string;
  ingressPort?: number;
  adminPort?: number;
  fabricPort?: number;
  /**
   * An Ed25519 private key (PKCS#8 PEM) to sign requests to deployments with; workers verify them with
   * its public key (`identityKeys`). Written to `baseDir/request-identity.pem` (mode 0600).
   */
  requestIdentityPrivateKeyPem?: string;
}

/** A running restate-server. */
export interface RestateServer {
  readonly ingressUrl: string;
  readonly adminUrl: string;
  readonly pid: number;
  /** Kills it at once (SIGKILL: a crash). */
  kill(): Promise<void>;
  /** Starts it again on the same ports and data (after `kill`). */
  restart(): Promise<RestateServer>;
  /** Stops it (SIGTERM, then SIGKILL after 5 s). */
  stop(): Promise<void>;
}

/** The restate-server binary of this platform, from node_modules. */
export function restateServerBinary(): string {
  const require = createRequire(import.meta.url);
  const pkg = `@restatedev/restate-server-${process.platform}-${process.arch === "x64" ? "x64" : process.arch}`;
  try {
    return join(dirname(require.resolve(`${pkg}/package.json`)), "bin", "restate-server");
  } catch {
    throw new KilnError(
      "config_invalid",
      `restate-server is not installed for ${process.platform}-${process.arch}: run \`npm install @restatedev/restate-server\``,
    );
  }
}

/** Starts restate-server and waits until its admin and ingress answer. */
export async function startRestateServer(options: RestateServerOptions): Promise<RestateServer> {
  const ports = {
    ingress: options.ingressPort || (await freePort()),
    admin: options.adminPort || (await freePort()),
    fabric: options.fabricPort || (await freePort()),
  };
  const config = join(options.baseDir, "restate.toml");
  const keyFile = join(options.baseDir, "request-identity.pem");
  if (options.requestIdentityPrivateKeyPem !== undefined) {
    // A bad key is reported here, in Kiln's words, not as restate-server failing to start.
    publicKeyFromPrivatePem(options.requestIdentityPrivateKeyPem);
    writeFileSync(keyFile, options.requestIdentityPrivateKeyPem, { mode: 0o600 });
    // The mode above applies only when the file is created: a key written before keeps its old mode.
    chmodSync(keyFile, 0o600);
  }
  writeFileSync(
    config,
    [
      `node-name = "kiln"`,
      `base-dir = ${JSON.stringify(join(options.baseDir, "data"))}`,
      `bind-address = "127.0.0.1:${ports.fabric}"`,
      `advertised-address = "http://127.0.0.1:${ports.fabric}/"`,
      `default-num-partitions = 4`,
      `disable-telemetry = true`,
      `log-filter = "warn"`,
      "[admin]",
      `bind-address = "127.0.0.1:${ports.admin}"`,
      "[ingress]",
      `bind-address = "127.0.0.1:${ports.ingress}"`,
      // A lost worker is retried soon (default: from 500 ms, up to a minute apart).
      "[default-retry-policy]",
      `initial-interval = "100ms"`,
      `max-interval = "2s"`,
      ...(options.requestIdentityPrivateKeyPem === undefined
        ? []
        : ["[worker.invoker]", `request-identity-private-key-pem-file = ${JSON.stringify(keyFile)}`]),
      "",
    ].join("\n"),
  );
  const child = spawn(restateServerBinary(), ["--no-logo", "--listen-mode", "tcp", "-c", config], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const adminUrl = `http://127.0.0.1:${ports.admin}`;
  const ingressUrl = `http://127.0.0.1:${ports.ingress}`;
  await waitHealthy(child, [`${adminUrl}/health`, `${ingressUrl}/restate/health`], () => stderr);
  const server: RestateServer = {
    ingressUrl,
    adminUrl,
    pid: child.pid ?? 0,
    kill: () => end(child, "SIGKILL"),
    restart: () =>
      startRestateServer({
        ...options,
        ingressPort: ports.ingress,
        adminPort: ports.admin,
        fabricPort: ports.fabric,
      }),
    stop: () => end(child, "SIGTERM"),
  };
  return server;
}

async function waitHealthy(child: ChildProcess, urls: string[], log: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new KilnError("internal", `restate-server exited (${child.exitCode}): ${log()}`);
    const ok = await Promise.all(
      urls.map((url) =>
        fetch(url).then(
          (r) => r.ok,
          () => false,
        ),
      ),
    );
    if (ok.every(Boolean)) return;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new KilnError("timeout", `restate-server did not become healthy in 20 s: ${log()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function end(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    child.kill(signal);
  });
}

/** A port free on loopback now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
