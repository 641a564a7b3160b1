// Kiln as a library: start a thread with a tool of your own, stream a turn, then continue it.
//
//   npm run build && node examples/embedding.mjs "What's the weather in Paris?"   # with OPENAI_API_KEY
//   node examples/embedding.mjs --fake                                            # no key: a scripted model
//
// (From TypeScript: `import { Kiln } from "@kiln/core"` works the same inside this workspace.)
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineTool, Kiln } from "@kiln/core";
import { z } from "zod";

const fake = process.argv.includes("--fake");
const prompt = process.argv.slice(2).find((a) => !a.startsWith("--")) ?? "What's the weather in Paris?";

let server;
const env = { ...process.env };
const overrides = [];
if (fake) {
  // A scripted model at the wire level: it calls our tool, then answers.
  const { startFakeModelServer } = await import("@kiln/test-support");
  server = await startFakeModelServer({
    scenario: {
      steps: [
        { output: [{ type: "function_call", name: "lookup_weather", arguments: { city: "Paris" } }] },
        { output: [{ type: "message", text: "It is 21 °C and sunny in Paris." }] },
        { output: [{ type: "message", text: "You asked about Paris." }] },
      ],
    },
  });
  env.KILN_HOME = mkdtempSync(join(tmpdir(), "kiln-example-"));
  env.OPENAI_API_KEY = "example";
  overrides.push(`openai_base_url="${server.url}"`);
}

const kiln = new Kiln({ env, overrides });
const thread = kiln.startThread({
  cwd: process.cwd(),
  sandbox: "read-only",
  approvalPolicy: "never",
  tools: [
    // defineTool types `execute`'s arguments from the zod schema (a plain object works too).
    defineTool({
      name: "lookup_weather",
      description: "Current weather for a city.",
      parameters: z.object({ city: z.string() }),
      readOnly: true,
      execute: async ({ city }) => ({ city, tempC: 21, sky: "sunny" }),
    }),
  ],
  // Called when a tool call needs a person's decision (never, with approvalPolicy "never").
  onApproval: async () => "denied",
});

for await (const { seq, event } of thread.runStreamed(prompt)) {
  if (event.type === "item/completed")
    console.log(`#${seq} ${event.item.type}`, event.item.type === "agentMessage" ? event.item.text : "");
  if (event.type === "turn/completed")
    console.log(`#${seq} turn ${event.status}, ${event.usage.totalTokens} tokens`);
}

// run() folds the same stream into a result.
const { finalResponse } = await thread.run("What did I ask?");
console.log(`final: ${finalResponse}`);
console.log(`thread ${thread.id} is saved in ${thread.rolloutPath}; kiln.resumeThread(id) continues it.`);
thread.close();

if (server) {
  await server.close();
  rmSync(env.KILN_HOME, { recursive: true, force: true });
}
