// Reading what the user types for `kiln login`: a line (the username), a secret without echo (the
// password: the terminal in raw mode, restored whatever happens), or all of stdin (`--password-stdin`).
import { createInterface } from "node:readline";
import { KilnError } from "@kiln/protocol";

/** Asks `question` on `output` and resolves with the line typed on `input` (a terminal). */
export async function promptLine(
  input: NodeJS.ReadStream,
  output: NodeJS.WriteStream,
  question: string,
): Promise<string> {
  const rl = createInterface({ input, output, terminal: true });
  // Only our own listener goes: readline's own "close" listener detaches it from the input.
  let onClose = () => {};
  try {
    return await new Promise<string>((resolve, reject) => {
      onClose = () => reject(new KilnError("invalid_request", "no answer: the input ended"));
      rl.once("SIGINT", () => reject(new KilnError("turn_interrupted", "cancelled")));
      rl.once("close", onClose);
      rl.question(question, resolve);
    });
  } finally {
    rl.off("close", onClose);
    rl.close();
  }
}

/**
 * Asks `question` and reads a secret from the terminal `input` without echoing it (raw mode; Enter
 * ends it, Backspace deletes, Ctrl-C cancels). The terminal mode is restored before it resolves.
 */
export function promptSecret(
  input: NodeJS.ReadStream,
  output: NodeJS.WriteStream,
  question: string,
): Promise<string> {
  // Raw mode (no echo) before the question: what is typed as soon as it shows must not echo.
  const wasRaw = input.isRaw;
  input.setRawMode(true);
  output.write(question);
  input.resume();
  let secret = "";
  return new Promise<string>((resolve, reject) => {
    const finish = (error?: Error) => {
      input.off("data", onData);
      input.setRawMode(wasRaw);
      input.pause();
      output.write("\n");
      if (error === undefined) resolve(secret);
      else reject(error);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of chunk.toString()) {
        if (ch === "\r" || ch === "\n" || ch === "\u0004") return finish();
        if (ch === "\u0003") return finish(new KilnError("turn_interrupted", "cancelled"));
        if (ch === "\u007f" || ch === "\b") secret = [...secret].slice(0, -1).join("");
        else if (ch >= " ") secret += ch;
      }
    };
    input.on("data", onData);
  });
}

/** All of `input` as UTF-8 text. */
export async function readAll(input: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks).toString("utf8");
}

/** A secret given on stdin (`--password-stdin`): its one line, without the line break. */
export async function readSecretFromStdin(input: NodeJS.ReadableStream): Promise<string> {
  const text = await readAll(input);
  // Only the final line break goes: spaces may be part of a password.
  return text.replace(/\r?\n$/, "");
}
