// Restate request identity end to end: a real restate-server (from npm, on loopback) given a generated
// Ed25519 key signs its requests; a worker given the public key serves them, refuses unsigned requests
// from anyone else who reaches its port, and a worker expecting another key refuses restate-server.
// PostgreSQL (KILN_TEST_PG_URL) is the worker's store; the model is the fake model server.
import { mkdtemp, rm, stat } from "node:fs/promises";
import * as http2 from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kiln } from "@kiln/core";
import {
  type DurableWorker,
  generateRequestIdentity,
  publicKeyFromPrivatePem,
  type RestateServer,
  registerDeployment,
  startDurableWorker,
  startRestateServer,
  submitTurn,
} from "@kiln/durable";
import { type EventEnvelope, KilnError, newId } from "@kiln/protocol";
import { createPostgresTestDatabase, type KilnStore, openStore, type TestDatabase } from "@kiln/store";
import {
  createTempGitRepo,
  type FakeModelServer,
  startFakeModelServer,
  type TempGitRepo,
} from "@kiln/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const pgUrl = process.env.KILN_TEST_PG_URL || undefined;

// RFC 8032 §7.1, test 1: the private key as PKCS#8 PEM, and its public key in Restate's form (the
// Base58 computed independently of Kiln's encoder).
const RFC8032_PEM =
  "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n-----END PRIVATE KEY-----\n";
const RFC8032_PUBLIC = "publickeyv1_FVen3X669xLzsi6N2V91DoiyzHzg1uAgqiT8jZ9nS96Z";

describe("request identity keys", () => {
  it("derives Restate's publickeyv1 form of a known Ed25519 key", () => {
    expect(publicKeyFromPrivatePem(RFC8032_PEM)).toBe(RFC8032_PUBLIC);
  });

  it("generates a PKCS#8 PEM private key whose public key it reports", () => {
    const identity = generateRequestIdentity();
    expect(identity.privateKeyPem).toMatch(
      /^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/,
    );
    expect(identity.publicKey).toMatch(/^publickeyv1_[1-9A-HJ-NP-Za-km-z]{43,44}$/);
    expect(publicKeyFromPrivatePem(identity.privateKeyPem)).toBe(identity.publicKey);
    expect(generateRequestIdentity().publicKey).not.toBe(identity.publicKey);
  });

  it("refuses a PEM that is not an Ed25519 private key, saying how to make one", () => {
    expect(() => publicKeyFromPrivatePem("not a key")).toThrow(/not a PEM private key.*identity-key --out/);
  });

  it("refuses to start a worker with a malformed public key, naming it", async () => {
    const store = await openStore(":memory:");
    try {
      const start = startDurableWorker({
        store,
        kiln: new Kiln({ env: {} }),
        identityKeys: [RFC8032_PUBLIC, "publickeyv1_0OIl"],
      });
      await expect(start).rejects.toThrow(KilnError);
      await expect(start).rejects.toThrow(/"publickeyv1_0OIl" is not a Restate request identity public key/);
    } finally {
      await store.close();
    }
  });
});

describe.skipIf(pgUrl === undefined)(
  `request signing between restate-server and workers${pgUrl === undefined ? " — SKIPPED: KILN_TEST_PG_URL is not set (scripts/pg-test-cluster.sh start)" : ""}`,
  () => {
    const identity = generateRequestIdentity();
    let db: TestDatabase;
    let store: KilnStore;
    let userId: string;
    let model: FakeModelServer;
    let repo: TempGitRepo;
    let home: string;
    let restate: RestateServer;
    const workers: DurableWorker[] = [];

    beforeAll(async () => {
      db = await createPostgresTestDatabase(pgUrl ?? "");
      store = await openStore(db.url);
      userId = `usr_${newId("thr").slice(4)}`;
      await store.users.create({ id: userId, username: "signed", role: "user", passwordHash: "x", now: 1 });
      model = await startFakeModelServer({ scenario: { steps: [] } });
      repo = await createTempGitRepo({ "a.txt": "alpha\n" });
      home = await mkdtemp(join(tmpdir(), "kiln-signing-"));
      restate = await startRestateServer({
        baseDir: home,
        requestIdentityPrivateKeyPem: identity.privateKeyPem,
      });
    }, 30_000);
    afterAll(async () => {
      for (const worker of workers) await worker.close();
      await restate?.stop();
      await model?.close();
      await repo?.cleanup();
      await store?.close();
      await db?.drop();
      await rm(home, { recursive: true, force: true });
    });

    async function startWorker(identityKeys: string[]): Promise<DurableWorker> {
      const kiln = new Kiln({
        env: { KILN_HOME: home, OPENAI_API_KEY: "k", PATH: process.env.PATH },
        overrides: [`openai_base_url="${model.url}"`, "model_providers.openai.retry_base_delay_ms=10"],
      });
      const worker = await startDurableWorker({ store, kiln, identityKeys });
      workers.push(worker);
      return worker;
    }

    /** One HTTP/2 request without Restate's signature headers, as anyone reaching the port could send. */
    async function unsigned(url: string, path: string, method = "POST"): Promise<number> {
      const session = http2.connect(url);
      try {
        const request = session.request({
          ":method": method,
          ":path": path,
          "content-type": "application/vnd.restate.invocation.v5",
        });
        request.end();
        const [headers] = (await Promise.race([
          new Promise((resolve) => request.once("response", (h) => resolve([h]))),
          new Promise((_, reject) => request.once("error", reject)),
        ])) as [http2.IncomingHttpHeaders];
        request.resume();
        return Number(headers[":status"]);
      } finally {
        session.close();
      }
    }

    it("keeps the private key in the server's directory, readable by its owner only", async () => {
      const file = await stat(join(home, "request-identity.pem"));
      expect(file.mode & 0o777).toBe(0o600);
    });

    it("registers a worker holding the server's public key and runs a turn on it", async () => {
      const worker = await startWorker([generateRequestIdentity().publicKey, identity.publicKey]);
      await registerDeployment(restate.adminUrl, worker.url);
      model.setScenario({ steps: [{ output: [{ type: "message", text: "Signed and served." }] }] });
      const threadId = newId("thr");
      const turnId = newId("turn");
      await submitTurn(restate.ingressUrl, threadId, {
        userId,
        turnId,
        input: "hello",
        thread: { cwd: repo.dir },
      });
      let events: EventEnvelope[] = [];
      const deadline = Date.now() + 15_000;
      while (!events.some((e) => e.event.type === "turn/completed")) {
        if (Date.now() > deadline) throw new Error(`the turn did not complete: ${JSON.stringify(events)}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
        events = (await store.events.listAfter({ userId, threadId }, 0, 1000)) ?? [];
      }
      expect(events.at(-1)?.event).toMatchObject({ type: "turn/completed", turnId, status: "completed" });
      const answer = events.find(
        (e) => e.event.type === "item/completed" && e.event.item.type === "agentMessage",
      );
      expect(answer?.event).toMatchObject({ item: { type: "agentMessage", text: "Signed and served." } });
      expect(model.requests).toHaveLength(1);
    });

    it("answers 401 to unsigned invocations and discovery, and 200 to health checks", async () => {
      const worker = await startWorker([identity.publicKey]);
      expect({
        invoke: await unsigned(worker.url, "/invoke/KilnThread/runTurn"),
        discover: await unsigned(worker.url, "/discover", "GET"),
        health: await unsigned(worker.url, "/health", "GET"),
      }).toEqual({ invoke: 401, discover: 401, health: 200 });
    });

    it("refuses registration when the worker expects another key, and says so", async () => {
      const worker = await startWorker([generateRequestIdentity().publicKey]);
      const registration = registerDeployment(restate.adminUrl, worker.url);
      await expect(registration).rejects.toThrow(KilnError);
      await expect(registration).rejects.toThrow(
        /401 Unauthorized.*The worker refused restate-server's request signature/s,
      );
    });
  },
);
