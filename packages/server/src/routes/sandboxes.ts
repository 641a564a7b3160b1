// /sandboxes/{id}: exec (JSON, or streamed as NDJSON), files (list, read, write; confined to the
// workspace), status, a terminal over WebSocket, and capability tokens. A request is allowed with the
// owner's credentials (requireUser) or with a capability token of THIS sandbox (`kiln_sbx_…` as a
// bearer token or `?token=`, for browsers' WebSockets); such a token is refused everywhere else, and
// by every other sandbox. `{id}` may also be a task id: that task's first attempt's sandbox.
import { upgradeWebSocket } from "@hono/node-server";
import {
  KilnError,
  SandboxExecRequest,
  SandboxId,
  SandboxWriteFileRequest,
  TaskId,
  TerminalClientMessage,
  type TerminalServerMessage,
  toErrorInfo,
  WhamSandboxExecRequest,
} from "@kiln/protocol";
import { collectExec, type LiveSandbox, type SandboxManager } from "@kiln/sandbox";
import type { KilnStore, StoredSandbox } from "@kiln/store";
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { stream } from "hono/streaming";
import { z } from "zod";
import { type AppEnv, errorResponse, parseParam, parseWith, readJsonBody } from "../auth/index.ts";
import { hashToken, newOpaqueToken } from "../auth/opaque-token.ts";
import type { TaskService } from "../tasks/task-service.ts";
import { sandboxResource } from "../tasks/task-view.ts";

/** The prefix of sandbox capability tokens. */
export const SANDBOX_TOKEN_PREFIX = "kiln_sbx_";
/** How long a capability token lives. */
export const SANDBOX_TOKEN_TTL_MS = 24 * 3600_000;

/** Dependencies of {@link sandboxRoutes}. */
export interface SandboxRouteDeps {
  store: KilnStore;
  tasks: TaskService;
  sandboxes: SandboxManager;
  requireUser: MiddlewareHandler<AppEnv>;
  now: () => number;
}

type SandboxEnv = AppEnv & { Variables: { sandbox: StoredSandbox } };

const FilesQuery = z.strictObject({ path: z.string().max(4096).default(""), token: z.string().optional() });
// The WHAM API ignores fields and query parameters it does not know (spec/wham-api.md).
const WhamFilesQuery = z.object(FilesQuery.shape);
const WhamWriteFileRequest = z.object(SandboxWriteFileRequest.shape);
const TokenQuery = z.object({ token: z.string().optional() });

/**
 * The sandbox routes (mount at `/api/v1` WITHOUT requireUser in front: they authenticate themselves).
 * `collection` is the path segment: `sandboxes` natively, `sandbox` for the WHAM API.
 */
export function sandboxRoutes(d: SandboxRouteDeps, collection = "sandboxes"): Hono<AppEnv> {
  const app = new Hono<SandboxEnv>();
  const wham = collection !== "sandboxes";
  const filesQuery = wham ? WhamFilesQuery : FilesQuery;
  const writeFileRequest = wham ? WhamWriteFileRequest : SandboxWriteFileRequest;

  // Resolves `:id` to a sandbox the caller may use, from a capability token or the owner's credentials.
  const access: MiddlewareHandler<SandboxEnv> = async (c, next) => {
    const raw = c.req.param("id") ?? "";
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("authorization") ?? "")?.[1];
    const queryToken = parseWith(TokenQuery, c.req.query(), "query").token;
    const token = bearer?.startsWith(SANDBOX_TOKEN_PREFIX) ? bearer : queryToken;
    if (token !== undefined) {
      if (!token.startsWith(SANDBOX_TOKEN_PREFIX)) {
        return errorResponse(
          c,
          new KilnError("unauthorized", "`?token=` takes a sandbox token (kiln_sbx_…) only"),
        );
      }
      const found = await d.store.sandboxes.findToken(hashToken(token), d.now());
      const sandbox = found === undefined ? undefined : await d.store.sandboxes.getUnscoped(found.sandboxId);
      if (sandbox === undefined || !(await tokenOpens(d, sandbox, raw))) {
        return errorResponse(c, new KilnError("unauthorized", `this sandbox token is not valid for ${raw}`));
      }
      c.set("sandbox", sandbox);
      return next();
    }
    let passed = false;
    const denied = await d.requireUser(c as unknown as Context<AppEnv>, async () => {
      passed = true;
    });
    if (!passed) return denied instanceof Response ? denied : c.res;
    const user = c.get("user");
    c.set("sandbox", await ownedSandbox(d, { id: user.id, role: user.role }, raw));
    return next();
  };

  app.use(`/${collection}/:id`, access);
  app.use(`/${collection}/:id/*`, access);

  app.get(`/${collection}/:id`, (c) => c.json(sandboxResource(c.get("sandbox"))));

  app.get(`/${collection}/:id/status`, async (c) => c.json(await live(d, c.get("sandbox")).status()));

  app.post(`/${collection}/:id/exec`, async (c) => {
    const sandbox = c.get("sandbox");
    const body = wham
      ? whamExec(await readJsonBody(c, WhamSandboxExecRequest))
      : await readJsonBody(c, SandboxExecRequest);
    const request = {
      command: body.command,
      ...(body.cwd === undefined ? {} : { cwd: body.cwd }),
      ...(body.timeout_ms === undefined ? {} : { timeoutMs: body.timeout_ms }),
      ...(body.env === undefined ? {} : { env: body.env }),
    };
    await touch(d, sandbox);
    const box = live(d, sandbox);
    if (!(c.req.header("accept") ?? "").includes("application/x-ndjson")) {
      const result = await collectExec(box.exec({ ...request, signal: c.req.raw.signal }));
      await touch(d, sandbox);
      return c.json(result);
    }
    c.header("content-type", "application/x-ndjson; charset=utf-8");
    return stream(c, async (out) => {
      const abort = new AbortController();
      out.onAbort(() => abort.abort());
      try {
        for await (const chunk of box.exec({ ...request, signal: abort.signal })) {
          await out.write(`${JSON.stringify(chunk)}\n`);
        }
      } catch (error) {
        await out
          .write(`${JSON.stringify({ type: "error", error: toErrorInfo(error) })}\n`)
          .catch(() => undefined);
      } finally {
        await touch(d, sandbox);
      }
    });
  });

  app.get(`/${collection}/:id/files`, async (c) => {
    const { path } = parseWith(filesQuery, c.req.query(), "query");
    const files = live(d, c.get("sandbox")).files;
    const stat = await files.stat(path);
    if (stat.type === "directory") return c.json(await files.list(path));
    return c.json(await files.read(path, { maxBytes: 16 * 1024 * 1024 }));
  });

  app.put(`/${collection}/:id/files`, async (c) => {
    const { path } = parseWith(filesQuery, c.req.query(), "query");
    if (path === "") {
      throw new KilnError("invalid_request", `"path": give the file to write (?path=src/app.ts)`, {
        details: { field: "path" },
      });
    }
    const sandbox = c.get("sandbox");
    const isJson = (c.req.header("content-type") ?? "").includes("application/json");
    let data: Uint8Array;
    if (isJson) {
      const body = await readJsonBody(c, writeFileRequest);
      data =
        body.encoding === "base64" ? Buffer.from(body.content, "base64") : Buffer.from(body.content, "utf8");
    } else {
      const bytes = new Uint8Array(await c.req.arrayBuffer());
      if (bytes.byteLength > 16 * 1024 * 1024) {
        throw new KilnError("payload_too_large", "a file may be at most 16 MiB");
      }
      data = bytes;
    }
    const entry = await live(d, sandbox).files.write(path, data);
    await touch(d, sandbox);
    return c.json(entry);
  });

  app.post(`/${collection}/:id/tokens`, async (c) => {
    const sandbox = c.get("sandbox");
    if (c.get("user") === undefined) {
      throw new KilnError("forbidden", "a sandbox token cannot make more tokens: use your own credentials");
    }
    const token = newOpaqueToken(SANDBOX_TOKEN_PREFIX);
    const expiresAt = d.now() + SANDBOX_TOKEN_TTL_MS;
    await d.store.sandboxes.createToken({
      tokenHash: hashToken(token),
      sandboxId: sandbox.id,
      userId: sandbox.userId,
      createdAt: d.now(),
      expiresAt,
    });
    return c.json({ token, sandboxId: sandbox.id, expiresAt }, 201);
  });

  app.post(`/${collection}/:id/stop`, async (c) => {
    const sandbox = c.get("sandbox");
    await live(d, sandbox).stop();
    await d.store.sandboxes.setState(sandbox.id, "stopped", d.now());
    return c.json(sandboxResource({ ...sandbox, state: "stopped" }));
  });

  app.get(
    `/${collection}/:id/terminal`,
    upgradeWebSocket((c) => {
      const sandbox = c.get("sandbox") as StoredSandbox;
      const query = new URL(c.req.url).searchParams;
      const cols = Number(query.get("cols") ?? 80) || 80;
      const rows = Number(query.get("rows") ?? 24) || 24;
      let session: ReturnType<LiveSandbox["terminal"]> | undefined;
      const send = (ws: { send(data: string): void }, message: TerminalServerMessage) =>
        ws.send(JSON.stringify(message));
      return {
        onOpen: (_event, ws) => {
          try {
            session = live(d, sandbox).terminal({ cols: clamp(cols), rows: clamp(rows) });
          } catch (error) {
            const info = toErrorInfo(error);
            send(ws, { type: "error", error: { code: info.code, message: info.message } });
            ws.close(1011, "terminal failed");
            return;
          }
          void touch(d, sandbox);
          session.onData((data) => send(ws, { type: "output", data }));
          void session.exited.then((status) => {
            send(ws, { type: "exit", exitCode: status.exitCode, signal: status.signal });
            ws.close(1000, "exited");
          });
        },
        onMessage: (event) => {
          if (session === undefined) return;
          const text = typeof event.data === "string" ? event.data : "";
          const parsed = TerminalClientMessage.safeParse(safeJson(text));
          if (!parsed.success) {
            session.write(text);
            return;
          }
          if (parsed.data.type === "input") session.write(parsed.data.data);
          else session.resize(parsed.data.cols, parsed.data.rows);
        },
        onClose: () => session?.close(),
        onError: () => session?.close(),
      };
    }),
  );

  return app as unknown as Hono<AppEnv>;
}

/** A WHAM exec body as the native one (WHAM sends `null` for a field it leaves out). */
function whamExec(body: WhamSandboxExecRequest): SandboxExecRequest {
  return {
    command: body.command,
    ...(body.cwd === null || body.cwd === undefined ? {} : { cwd: body.cwd }),
    ...(body.timeout_ms === null || body.timeout_ms === undefined ? {} : { timeout_ms: body.timeout_ms }),
  };
}

const clamp = (n: number) => Math.min(1000, Math.max(1, Math.floor(n)));

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Whether a capability token of `sandbox` opens `raw`: its own id, or its task's id when it is the
 * sandbox that id names (the first attempt's, as for the owner) — another attempt's token does not.
 */
async function tokenOpens(d: SandboxRouteDeps, sandbox: StoredSandbox, raw: string): Promise<boolean> {
  if (sandbox.id === raw) return true;
  if (sandbox.taskId !== raw) return false;
  const [first] = await d.store.tasks.attempts(raw);
  return first?.sandboxId === sandbox.id;
}

async function ownedSandbox(
  d: SandboxRouteDeps,
  caller: { id: string; role: "admin" | "user" },
  raw: string,
): Promise<StoredSandbox> {
  if (TaskId.safeParse(raw).success) {
    const resource = await d.tasks.taskSandbox(caller, raw);
    const sandbox = await d.store.sandboxes.get(caller.id, resource.id);
    if (sandbox !== undefined) return sandbox;
  }
  const id = parseParam(SandboxId, raw, "id");
  const sandbox = await d.store.sandboxes.get(caller.id, id);
  if (sandbox === undefined)
    throw new KilnError("not_found", `no sandbox ${id}`, { details: { field: "id" } });
  return sandbox;
}

function live(d: SandboxRouteDeps, sandbox: StoredSandbox): LiveSandbox {
  return d.sandboxes.open({
    id: sandbox.id,
    workspace: sandbox.workspace,
    networkAccess: sandbox.network === "on",
  });
}

async function touch(d: SandboxRouteDeps, sandbox: StoredSandbox): Promise<void> {
  await d.store.sandboxes.touch(sandbox.id, d.now());
  if (sandbox.state !== "running") await d.store.sandboxes.setState(sandbox.id, "running", d.now());
}
