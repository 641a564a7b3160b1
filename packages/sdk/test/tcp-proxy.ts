// A TCP proxy on 127.0.0.1 in front of a test server, so that a test can break a connection for real:
// when the server's bytes to the client contain a marker, the proxy forwards only part of that chunk
// (cutting an SSE frame in half) and destroys both sockets, as a dropped network connection would.
import { connect, createServer, type Socket } from "node:net";

/** A running proxy. */
export interface TcpProxy {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** The request lines (`GET /api/v1/… HTTP/1.1`) the client sent, in order. */
  requests: string[];
  /** How many connections the proxy has cut (or stalled). */
  readonly cuts: number;
  /**
   * Cuts connections: the first chunk from the server containing `markers[0]` cuts its connection,
   * then the first containing `markers[1]`, and so on.
   */
  cutOn(...markers: string[]): void;
  /**
   * Like `cutOn`, but the connection stays open and silent (a half-open connection: no bytes, no
   * close), as when a network path dies without telling either end.
   */
  stallOn(...markers: string[]): void;
  close(): Promise<void>;
}

/** Starts a proxy to `target` (`http://127.0.0.1:<port>`). */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  const requests: string[] = [];
  let markers: string[] = [];
  let stall = false;
  let cuts = 0;

  const server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    let broken = false;
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => undefined);
    }
    const destroyBoth = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("close", destroyBoth);
    upstream.on("close", destroyBoth);
    client.on("data", (chunk: Buffer) => {
      for (const m of chunk.toString("latin1").matchAll(/^(?:GET|POST|PUT|PATCH|DELETE) \S+ HTTP\/1\.1/gm)) {
        requests.push(m[0]);
      }
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      if (broken) return;
      const marker = markers[0];
      const at = marker === undefined ? -1 : chunk.indexOf(marker);
      if (marker === undefined || at === -1) {
        client.write(chunk);
        return;
      }
      markers = markers.slice(1);
      cuts++;
      broken = true;
      // Half of the marker goes through: the client sees a frame that never ends.
      client.write(chunk.subarray(0, at + Math.floor(marker.length / 2)), stall ? undefined : destroyBoth);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the proxy has no port");
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    get cuts() {
      return cuts;
    },
    cutOn(...next) {
      markers = next;
      stall = false;
    },
    stallOn(...next) {
      markers = next;
      stall = true;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
