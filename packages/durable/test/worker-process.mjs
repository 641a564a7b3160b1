// A durable worker as its own process, so a test can SIGKILL it mid-turn. Runs the built packages
// (dist/, made by the test suite's global setup). Argument: JSON {port, dbUrl, kilnHome, modelUrl,
// checkpoints?, secretKey?} (checkpoints: workspaces on node-local disks, as `kiln worker --workspaces
// checkpoint`; secretKey: the API nodes' KILN_SECRET_KEY, so users' own provider keys are used).
// Prints one JSON line {"url": …} once serving. Stored events are announced with PostgreSQL NOTIFY,
// as `kiln worker` does.
import { Kiln } from "@kiln/core";
import {
  createCheckpointSync,
  createPgEventNotifier,
  createWorkspaceCheckpointer,
  startDurableWorker,
} from "@kiln/durable";
import { openStore } from "@kiln/store";

const options = JSON.parse(process.argv[2] ?? "{}");
const store = await openStore(options.dbUrl);
const kiln = new Kiln({
  env: { KILN_HOME: options.kilnHome, OPENAI_API_KEY: "k", PATH: process.env.PATH },
  overrides: [`openai_base_url="${options.modelUrl}"`, "model_providers.openai.retry_base_delay_ms=10"],
});
const notifier = createPgEventNotifier(options.dbUrl);
const env = { KILN_HOME: options.kilnHome, OPENAI_API_KEY: "k", PATH: process.env.PATH };
const overrides = [`openai_base_url="${options.modelUrl}"`, "model_providers.openai.retry_base_delay_ms=10"];
let kilnFor;
if (options.secretKey !== undefined) {
  const { createSecretBox, createUserSecrets, decodeKey, providerKeysOf } = await import("@kiln/server");
  const secrets = createUserSecrets({
    store,
    box: createSecretBox(decodeKey(options.secretKey, "secretKey")),
  });
  const userEnv = providerKeysOf(secrets);
  kilnFor = async ({ userId }) => new Kiln({ env: { ...env, ...(await userEnv(userId)) }, overrides });
}
const worker = await startDurableWorker({
  store,
  kiln,
  notifier,
  ...(kilnFor === undefined ? {} : { kilnFor }),
  port: options.port,
  ...(options.checkpoints === true
    ? { workspaces: createCheckpointSync(createWorkspaceCheckpointer(store), store) }
    : {}),
});
process.stdout.write(`${JSON.stringify({ url: worker.url })}\n`);
process.once("SIGTERM", () => {
  void worker
    .close()
    .then(() => notifier.close())
    .then(() => store.close())
    .then(() => process.exit(0));
});
