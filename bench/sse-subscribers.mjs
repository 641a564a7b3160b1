// SSE subscribers for the delivery benchmark, kept as cheap as a client can be so that the figure is
// the server's and not this process's: each is a bare TCP socket whose reads are only timestamped and
// kept; the HTTP response and its frames are parsed after the turn, when nothing is measured any
// more. The subscribers can also be spread over worker threads, each with its own event loop, so that
// 200 sockets are not read one after another by one loop (each real subscriber reads with its own
// CPU). Clock: `performance.timeOrigin + performance.now()`, the same wall clock (sub-ms) as the
// server's `Date.now()` envelope `at`, in any thread of this machine.
import { connect } from "node:net";
import { performance } from "node:perf_hooks";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";

const END = Buffer.from("event: turn/completed\n");

/**
 * Opens `count` subscribers of `url + path`, in this thread (`workers` 0) or spread over `workers`
 * worker threads. `open` resolves once every response is a 200; `done` with, per subscriber, its
 * frames `{ envelope, receivedAt }` up to the first `turn/completed`; `close()` hangs up.
 */
export function openSubscribers({ url, token, path, count, workers = 0 }) {
  if (workers === 0) return openHere({ url, token, path, count });
  const threads = Array.from({ length: workers }, (_, w) => {
    const share = Math.floor(count / workers) + (w < count % workers ? 1 : 0);
    return new Worker(new URL(import.meta.url), { workerData: { url, token, path, count: share } });
  });
  const message = (worker, type) =>
    new Promise((resolve, reject) => {
      const onMessage = (m) => {
        if (m.type === "error") reject(new Error(m.message));
        else if (m.type === type) resolve(m);
        else return;
        worker.off("message", onMessage);
      };
      worker.on("message", onMessage);
      worker.once("error", reject);
    });
  const opened = threads.map((worker) => message(worker, "open"));
  const finished = threads.map((worker) => message(worker, "done"));
  const done = Promise.all(finished).then((all) => all.flatMap((m) => m.frames));
  done.catch(() => undefined);
  return {
    open: Promise.all(opened),
    done,
    close: () => {
      for (const worker of threads) void worker.terminate();
    },
  };
}

function openHere({ url, token, path, count }) {
  const subscribers = Array.from({ length: count }, () => openOne(url, token, path));
  // Parsed once every subscriber has everything: parsing earlier would delay the others' reads.
  const done = Promise.all(subscribers.map((s) => s.done)).then((all) => all.map(parseResponse));
  done.catch(() => undefined);
  return {
    open: Promise.all(subscribers.map((s) => s.open)),
    done,
    close: () => {
      for (const s of subscribers) s.close();
    },
  };
}

/**
 * One subscriber on a bare TCP socket (less work per read than node:http's parser and streams): sends
 * the GET and keeps what each read brings with its time; `done` resolves with those reads once
 * `turn/completed` has come.
 */
function openOne(url, token, path) {
  const { hostname, port } = new URL(url);
  const chunks = [];
  let socket;
  let resolveOpen;
  let rejectOpen;
  const open = new Promise((resolve, reject) => {
    resolveOpen = resolve;
    rejectOpen = reject;
  });
  const done = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`SSE ${path}: no turn/completed in 30 s`)), 30_000);
    const fail = (error) => {
      clearTimeout(timer);
      rejectOpen(error);
      reject(error);
    };
    let opened = false;
    // The end marker may straddle two reads: look in the previous read's tail too.
    let tail = Buffer.alloc(0);
    socket = connect({ host: hostname, port: Number(port), noDelay: true }, () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${token}\r\n` +
          "Accept: text/event-stream\r\n\r\n",
      );
    });
    socket.on("data", (chunk) => {
      const receivedAt = performance.timeOrigin + performance.now();
      chunks.push({ chunk, receivedAt });
      if (!opened) {
        const head = Buffer.concat(chunks.map((c) => c.chunk)).toString("latin1");
        if (!head.includes("\r\n\r\n")) return;
        if (!head.startsWith("HTTP/1.1 200")) {
          fail(new Error(`SSE ${path}: ${head.slice(0, head.indexOf("\r\n"))}`));
          socket.destroy();
          return;
        }
        opened = true;
        resolveOpen();
      }
      const window = tail.length === 0 ? chunk : Buffer.concat([tail, chunk]);
      if (window.includes(END)) {
        clearTimeout(timer);
        resolve(chunks);
        return;
      }
      tail = window.subarray(Math.max(0, window.length - END.length));
    });
    socket.on("error", fail);
  });
  done.catch(() => undefined);
  return { open, done, close: () => socket.destroy() };
}

/**
 * The frames `{ envelope, receivedAt }` of a raw HTTP/1.1 response (chunked or not); receivedAt is the
 * time of the read that brought a frame's last byte.
 */
function parseResponse(chunks) {
  const raw = Buffer.concat(chunks.map((c) => c.chunk));
  const ends = [];
  let total = 0;
  for (const { chunk } of chunks) {
    total += chunk.length;
    ends.push(total);
  }
  const timeAt = (offset) => chunks[ends.findIndex((end) => end > offset)].receivedAt;
  const headEnd = raw.indexOf("\r\n\r\n") + 4;
  const chunked = /\r\ntransfer-encoding: *chunked\r\n/i.test(raw.toString("latin1", 0, headEnd));
  // The body as [rawStart, length] pieces (the data of each HTTP chunk).
  const pieces = [];
  if (!chunked) pieces.push([headEnd, raw.length - headEnd]);
  for (let p = headEnd; chunked && p < raw.length; ) {
    const lineEnd = raw.indexOf("\r\n", p);
    if (lineEnd === -1) break;
    const size = Number.parseInt(raw.toString("latin1", p, lineEnd), 16);
    if (!(size > 0)) break;
    pieces.push([lineEnd + 2, Math.min(size, raw.length - lineEnd - 2)]);
    p = lineEnd + 2 + size + 2;
  }
  const body = Buffer.concat(pieces.map(([start, length]) => raw.subarray(start, start + length)));
  const rawOffset = (bodyOffset) => {
    let seen = 0;
    for (const [start, length] of pieces) {
      if (bodyOffset < seen + length) return start + (bodyOffset - seen);
      seen += length;
    }
    return raw.length - 1;
  };
  const frames = [];
  for (let from = 0; ; ) {
    const end = body.indexOf("\n\n", from);
    if (end === -1) return frames;
    const block = body.toString("utf8", from, end);
    from = end + 2;
    const data = block.split("\n").find((line) => line.startsWith("data:"));
    if (data === undefined) continue;
    const envelope = JSON.parse(data.slice(5).trim());
    frames.push({ envelope, receivedAt: timeAt(rawOffset(end + 1)) });
    if (envelope.event.type === "turn/completed") return frames;
  }
}
if (!isMainThread && parentPort !== null) {
  const subscribers = openHere(workerData);
  subscribers.open.then(
    () => parentPort.postMessage({ type: "open" }),
    (error) => parentPort.postMessage({ type: "error", message: String(error.message ?? error) }),
  );
  subscribers.done.then(
    (frames) => {
      parentPort.postMessage({ type: "done", frames });
      subscribers.close();
    },
    (error) => parentPort.postMessage({ type: "error", message: String(error.message ?? error) }),
  );
}
