import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Bundles the CLI the way scripts/build.mjs does, into a temp dir, so this test runs the real executable
// without depending on (or overwriting) the other packages' build output.
const entry = fileURLToPath(new URL("./fake-model-cli.ts", import.meta.url));
const hello = fileURLToPath(new URL("../scenarios/hello.json", import.meta.url));
let outDir: string;
let cli: string;

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), "kiln-fake-cli-"));
  cli = join(outDir, "fake-model-cli.js");
  await build({
    entryPoints: [entry],
    outfile: cli,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    logLevel: "silent",
    banner: {
      js: "import { createRequire as __kilnCreateRequire } from 'node:module'; const require = __kilnCreateRequire(import.meta.url);",
    },
  });
});
afterAll(async () => {
  await rm(outDir, { recursive: true, force: true });
});

function run(args: string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [cli, ...args], { stdio: "pipe" });
}

async function firstLine(stream: NodeJS.ReadableStream): Promise<string> {
  const lines = createInterface({ input: stream });
  const [line] = (await once(lines, "line")) as [string];
  lines.close();
  return line;
}

describe("fake-model-cli", () => {
  it("prints its URL, serves the scenario, logs requests and exits on SIGTERM", async () => {
    const child = run(["--scenario", hello, "--log"]);
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = once(child, "exit");
    try {
      const { url } = JSON.parse(await firstLine(child.stdout)) as { url: string };
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);

      const client = new OpenAI({ baseURL: url, apiKey: "test", maxRetries: 0 });
      const stream = await client.responses.create({ model: "gpt-5.5", input: [], stream: true });
      const texts: string[] = [];
      for await (const event of stream)
        if (event.type === "response.output_text.done") texts.push(event.text);

      expect(texts).toEqual(["Hello! I'm ready to help. What would you like to work on?"]);
      expect(stderr).toBe("POST /v1/responses\n");
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited).toEqual([0, null]);
  });

  it("exits 1 with the usage when --scenario is missing", async () => {
    const child = run([]);
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const [code] = await once(child, "exit");

    expect(code).toBe(1);
    expect(stderr).toBe(
      "fake-model-cli: --scenario is required\nusage: fake-model-cli --scenario FILE [--port N] [--host H] [--log]\n",
    );
  });
});
