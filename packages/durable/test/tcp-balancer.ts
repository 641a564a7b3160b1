// A layer-4 load balancer on loopback, like a Kubernetes Service in front of workers: connections go to
// the upstreams in turn (round robin), skipping one that refuses. Restate registers its address once; a worker that dies is
// skipped on the next connection.
import { once } from "node:events";
import { connect, createServer, type Socket } from "node:net";

/** A running balancer. */
export interface TcpBalancer {
  readonly url: string;
  /** The upstream ports, tried in order; a test adds and removes workers here. */
  readonly upstreams: number[];
  close(): Promise<void>;
}

/** Starts a balancer over `upstreams` (ports on 127.0.0.1). */
export async function startTcpBalancer(upstreams: number[]): Promise<TcpBalancer> {
  const sockets = new Set<Socket>();
  let next = 0;
  const server = createServer((client) => {
    const start = next++;
    sockets.add(client);
    client.once("close", () => sockets.delete(client));
    client.pause();
    const tryUpstream = (tried: number) => {
      const port = upstreams[(start + tried) % Math.max(upstreams.length, 1)];
      if (port === undefined || tried >= upstreams.length) {
        client.destroy();
        return;
      }
      const upstream = connect(port, "127.0.0.1");
      upstream.once("error", () => tryUpstream(tried + 1));
      upstream.once("connect", () => {
        upstream.removeAllListeners("error");
        sockets.add(upstream);
        upstream.once("close", () => sockets.delete(upstream));
        upstream.on("error", () => client.destroy());
        client.on("error", () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    tryUpstream(0);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    upstreams,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
