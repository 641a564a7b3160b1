import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAccessGranter, parseGetfacl } from "./sandbox-access.ts";

const tools = { setfacl: "/usr/bin/setfacl", getfacl: "/usr/bin/getfacl" };
const uid = 61000;
let base: string;

function acl(path: string): Map<string, string> {
  const parsed = parseGetfacl(execFileSync(tools.getfacl, ["-pn", path], { encoding: "utf8" }));
  return parsed.get(path) ?? new Map();
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), "kiln-acl-"));
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe("parsing getfacl output", () => {
  it("reads named entries, effective rights and escaped names", () => {
    const output = [
      "# file: /tmp/a\\040b",
      "# owner: 0",
      "user::rwx",
      "user:61000:rwx\t#effective:r-x",
      "default:user:61000:rwx",
      "",
    ].join("\n");
    expect(parseGetfacl(output)).toEqual(
      new Map([
        [
          "/tmp/a b",
          new Map([
            ["user:", "rwx"],
            ["user:61000", "r-x"],
            ["default:user:61000", "rwx"],
          ]),
        ],
      ]),
    );
  });
});

describe.runIf(process.getuid?.() === 0)("granting the sandbox user access", () => {
  it("grants rwX with a default entry on a writable root and keeps its owner", async () => {
    const root = join(base, "ws");
    await mkdir(join(root, "src"), { recursive: true });
    await writeFile(join(root, "src", "a.ts"), "x", { mode: 0o600 });
    await createAccessGranter(uid, tools).grant([{ path: root, write: true }]);
    expect([acl(root).get(`user:${uid}`), acl(root).get(`default:user:${uid}`)]).toEqual(["rwx", "rwx"]);
    expect(acl(join(root, "src", "a.ts")).get(`user:${uid}`)).toBe("rw-");
    expect((await stat(root)).uid).toBe(0);
  });

  it("grants read-only roots rX", async () => {
    const root = join(base, "ro");
    await mkdir(root);
    await createAccessGranter(uid, tools).grant([{ path: root, write: false }]);
    expect(acl(root).get(`user:${uid}`)).toBe("r-x");
  });

  it("opens closed ancestors for traversal only", async () => {
    const closed = join(base, "closed");
    const root = join(closed, "ws");
    await mkdir(root, { recursive: true, mode: 0o700 });
    await createAccessGranter(uid, tools).grant([{ path: root, write: true }]);
    expect(acl(closed).get(`user:${uid}`)).toBe("--x");
  });

  it("never follows symlinks out of the root", async () => {
    const outside = join(base, "outside");
    const root = join(base, "linked");
    await mkdir(outside);
    await mkdir(root);
    await writeFile(join(outside, "secret"), "s", { mode: 0o600 });
    await symlink(outside, join(root, "dir-link"));
    await symlink(join(outside, "secret"), join(root, "file-link"));
    await createAccessGranter(uid, tools).grant([{ path: root, write: true }]);
    expect([acl(outside).get(`user:${uid}`), acl(join(outside, "secret")).get(`user:${uid}`)]).toEqual([
      undefined,
      undefined,
    ]);
  });

  it("does nothing for a root that already carries the grant, even in a new process", async () => {
    const root = join(base, "again");
    await mkdir(root);
    await createAccessGranter(uid, tools).grant([{ path: root, write: true }]);
    const before = (await stat(root)).ctimeMs;
    await new Promise((resolve) => setTimeout(resolve, 20));
    await createAccessGranter(uid, tools).grant([{ path: root, write: true }]);
    expect((await stat(root)).ctimeMs).toBe(before);
  });
});
