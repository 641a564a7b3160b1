/**
 * `fake-model-cli --scenario FILE [--port N] [--host H] [--log]`: runs the fake model server as its own
 * process (for benchmarks and manual runs against the real CLI). Prints one JSON line `{"url": …}` to
 * stdout once listening; with `--log`, one line per request to stderr; stops on SIGINT/SIGTERM.
 */
import { parseArgs } from "node:util";
import { startFakeModelServer } from "./fake-model-server.ts";
import { loadScenario } from "./scenario.ts";

const USAGE = "usage: fake-model-cli --scenario FILE [--port N] [--host H] [--log]";

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      scenario: { type: "string" },
      port: { type: "string" },
      host: { type: "string" },
      log: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.scenario === undefined) throw new Error(`--scenario is required\n${USAGE}`);
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--port must be an integer from 0 to 65535, got ${values.port}\n${USAGE}`);
  }

  const scenario = await loadScenario(values.scenario);
  const log = values.log;
  const server = await startFakeModelServer({
    scenario,
    port,
    host: values.host ?? "127.0.0.1",
    onRequest: log ? (request) => process.stderr.write(`${request.method} ${request.path}\n`) : undefined,
  });
  process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);

  const stop = () => {
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`fake-model-cli: error while closing: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`fake-model-cli: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
