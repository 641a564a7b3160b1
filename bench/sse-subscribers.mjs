// SSE subscribers for the delivery benchmark, kept as cheap as a client can be so that the figure is
// the server's and not this process's: each `data` chunk of a response is only timestamped and kept
// (node:http's parser has already taken off the chunked framing); frames are parsed after the turn,
// when nothing is measured any more. The subscribers can also be spread over worker threads, each
// with its own event loop, so that 200 sockets are not read one after another by one loop (each
// real subscriber reads with its own CPU). Clock: `performance.timeOrigin + performance.now()`, the
// same wall clock (sub-ms) as the server's `Date.now()` envelope `at`, in any thread of this machine.
import { request as httpRequest } from "node:http";
import { performance } from "node:perf_hooks";
import { StringDecoder } from "node:string_decoder";
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
  const done = Promise.all(subscribers.map((s) => s.done));
  done.catch(() => undefined);
  return {
    open: Promise.all(subscribers.map((s) => s.open)),
    done,
    close: () => {
      for (const s of subscribers) s.close();
    },
  };
}

/** One subscriber over node:http: timestamps chunks as they come, parses them after `turn/completed`. */
function openOne(url, token, path) {
  const chunks = [];
  let req;
  let resolveOpen;
  let rejectOpen;
  const open = new Promise((resolve, reject) => {
    resolveOpen = resolve;
    rejectOpen = reject;
  });
  const done = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`SSE ${path}: no turn/completed in 30 s`)), 30_000);
    req = httpRequest(
      `${url}${path}`,
      { headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" } },
      (res) => {
        if (res.statusCode !== 200) {
          rejectOpen(new Error(`SSE ${path}: HTTP ${res.statusCode}`));
          res.resume();
          return;
        }
        resolveOpen();
        // The end marker may straddle two chunks: look in the previous chunk's tail too.
        let tail = Buffer.alloc(0);
        res.on("data", (chunk) => {
          const receivedAt = performance.timeOrigin + performance.now();
          chunks.push({ chunk, receivedAt });
          const window = tail.length === 0 ? chunk : Buffer.concat([tail, chunk]);
          if (window.includes(END)) {
            clearTimeout(timer);
            resolve(parseFrames(chunks));
            return;
          }
          tail = window.subarray(Math.max(0, window.length - END.length));
        });
      },
    );
    req.on("error", (error) => {
      rejectOpen(error);
      reject(error);
    });
    req.end();
  });
  done.catch(() => undefined);
  return { open, done, close: () => req.destroy() };
}

/** Frames `{ envelope, receivedAt }` (receivedAt: of the chunk that completed the frame). */
function parseFrames(chunks) {
  const frames = [];
  const decoder = new StringDecoder("utf8");
  let text = "";
  for (const { chunk, receivedAt } of chunks) {
    text += decoder.write(chunk);
    let end = text.indexOf("\n\n");
    while (end !== -1) {
      const block = text.slice(0, end);
      text = text.slice(end + 2);
      end = text.indexOf("\n\n");
      const data = block.split("\n").find((line) => line.startsWith("data:"));
      if (data === undefined) continue;
      const envelope = JSON.parse(data.slice(5).trim());
      frames.push({ envelope, receivedAt });
      if (envelope.event.type === "turn/completed") return frames;
    }
  }
  return frames;
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
