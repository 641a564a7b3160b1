/// <reference types="node" />
// A TCP proxy on loopback in front of `kiln serve`, whose open connections a test can cut. Chromium's
// offline emulation (`context.setOffline(true)`) only fails new requests: an event stream that is
// already open keeps flowing, so it cannot by itself simulate a network drop mid-turn. Cutting the
// sockets here (while the context is offline, so that reconnects fail until it is back online) is what
// a dropped Wi-Fi or a laptop sleep looks like to the page.
import { connect, createServer, type Socket } from "node:net";

/** A running proxy. */
export interface CuttableProxy {
  /** The proxy's base URL, e.g. `http://127.0.0.1:PORT` (same host as the target: cookies still apply). */
  url: string;
  /** Destroys every open connection (both sides); returns how many there were. */
  cut(): number;
  /** Stops listening and destroys every connection. */
  close(): Promise<void>;
}

/** Proxies a new loopback port to `target` (an `http://127.0.0.1:PORT` URL). */
export async function startCuttableProxy(target: string): Promise<CuttableProxy> {
  const { hostname, port } = new URL(target);
  const open = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on("close", () => open.delete(socket));
      // A cut connection errors on the other side: expected, nothing to report.
      socket.on("error", () => undefined);
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the proxy has no TCP address");
  const cut = () => {
    const count = open.size;
    for (const socket of [...open]) socket.destroy();
    return count;
  };
  return {
    url: `http://127.0.0.1:${address.port}`,
    cut,
    close() {
      cut();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
