// A worker: serves the Restate endpoint (the thread object) over HTTP/2 and, given the admin URL,
// registers itself as a deployment so that Restate sends it invocations. Several workers sit behind
// one address (a load balancer or a Kubernetes Service) registered once: Restate pins an invocation to
// the deployment it started on, so a replacement worker must answer at the same address.
import { once } from "node:events";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { KilnError } from "@kiln/protocol";
import * as restate from "@restatedev/restate-sdk";
import { approvalObject } from "./approval-object.ts";
import { installPromisePolyfill } from "./promise-polyfill.ts";
import { parseIdentityPublicKey } from "./request-identity.ts";
import { createThreadObject, type ThreadObjectDeps } from "./thread-object.ts";

/** Where and how a worker serves. */
export interface DurableWorkerOptions extends ThreadObjectDeps {
  /** Port to listen on (0: any free port). */
  port?: number;
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /**
   * Request identity public keys (`publickeyv1_…`): when given, only requests signed by restate-server
   * with a matching private key are served (others get 401). Several keys allow a key rotation.
   */
  identityKeys?: string[];
}

/** A running worker. */
export interface DurableWorker {
  /** The endpoint's URL, e.g. `http://127.0.0.1:9080`. */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts serving the thread object. */
export async function startDurableWorker(options: DurableWorkerOptions): Promise<DurableWorker> {
  installPromisePolyfill();
  const identityKeys = (options.identityKeys ?? []).map(parseIdentityPublicKey);
  const handler = restate.createEndpointHandler({
    services: [createThreadObject(options), approvalObject],
    ...(identityKeys.length > 0 ? { identityKeys } : {}),
  });
  const server = http2.createServer(handler);
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  const host = options.host ?? "127.0.0.1";
  server.listen(options.port ?? 0, host);
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    async close() {
      for (const session of sessions) session.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Registers `endpointUrl` as a deployment with Restate's admin API (`POST /deployments`, forced, so a
 * worker started again at the same address replaces the old registration).
 */
export async function registerDeployment(
  adminUrl: string,
  endpointUrl: string,
  signal?: AbortSignal,
): Promise<void> {
  const response = await fetch(new URL("/deployments", adminUrl), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ uri: endpointUrl, force: true }),
    ...(signal === undefined ? {} : { signal }),
  }).catch((error: unknown) => {
    throw new KilnError(
      "config_invalid",
      `cannot reach Restate's admin API at ${adminUrl}: ${error instanceof Error ? error.message : String(error)}. Is restate-server running, and is --restate-admin its admin port (9070 by default)?`,
    );
  });
  if (!response.ok) {
    const body = (await response.text()).slice(0, 500);
    // Restate answers 500 (META0003) quoting the worker's 401 when the request signature did not verify.
    const hint = body.includes("401 Unauthorized")
      ? "The worker refused restate-server's request signature: give the worker the public key of the private key restate-server signs with ([worker.invoker] request-identity-private-key-pem-file; `kiln worker identity-key --private-key FILE` prints it), or configure that key on restate-server."
      : "Check that restate-server can reach that address.";
    throw new KilnError(
      "config_invalid",
      `Restate did not register the worker at ${endpointUrl} (HTTP ${response.status}: ${body}). ${hint}`,
    );
  }
}
