// Gives the unprivileged sandbox user access to the directories a sandbox mounts, without changing
// who owns them (a root-owned git repository must stay root-owned for the host's git). Sequence, once
// per directory per provider:
//   1. every ancestor the sandbox user cannot traverse (no `o+x`) is listed;
//   2. one `getfacl` reads the ACLs of those ancestors and of the roots;
//   3. one `setfacl -m u:U:x` for ancestors still closed to U (bwrap, running as U, resolves the
//      bind sources on the host, so it must be able to walk to them);
//   4. one `setfacl -R -P -m u:U:rwX -m d:u:U:rwX` for roots without a default ACL entry for U; the
//      default entry makes files created later (by the host or by the sandbox) inherit the grant.
// `-P` never follows symlinks: a link in the workspace to /etc/shadow must not receive the grant.
// Whether a root is writable inside the sandbox is decided by its mount (`--bind` vs `--ro-bind`),
// not by the ACL.
import { execFile } from "node:child_process";
import { statSync } from "node:fs";
import { dirname } from "node:path";
import { KilnError } from "@kiln/protocol";

/** A directory the sandbox user must reach; `write` roots get `rwX`, the others `rX`. */
export interface AccessRoot {
  path: string;
  write: boolean;
}

/** Grants a host uid ACL access to sandbox roots, caching what was done. */
export interface AccessGranter {
  /** Makes every root (and the way to it) usable by the sandbox user. Paths must be real and absolute. */
  grant(roots: AccessRoot[]): Promise<void>;
}

/** Host tools the granter runs. */
export interface AccessTools {
  setfacl: string;
  getfacl: string;
}

/** Creates a granter for host uid `uid`; its cache lives as long as the granter. */
export function createAccessGranter(uid: number, tools: AccessTools): AccessGranter {
  const done = new Map<string, Promise<void>>();
  const key = (kind: "rwX" | "rX" | "x", path: string) => `${kind}:${path}`;

  const grant = async (roots: AccessRoot[]): Promise<void> => {
    const pending: Promise<void>[] = [];
    const newRoots: AccessRoot[] = [];
    const newAncestors = new Set<string>();
    for (const root of roots) {
      const cached =
        done.get(key("rwX", root.path)) ?? (root.write ? undefined : done.get(key("rX", root.path)));
      if (cached !== undefined) pending.push(cached);
      else newRoots.push(root);
      for (const ancestor of ancestorsOf(root.path)) {
        const cachedAncestor = done.get(key("x", ancestor));
        if (cachedAncestor !== undefined) pending.push(cachedAncestor);
        else newAncestors.add(ancestor);
      }
    }
    if (newRoots.length > 0 || newAncestors.size > 0) {
      const batch = applyAcls(uid, tools, newRoots, [...newAncestors]);
      for (const root of newRoots) done.set(key(root.write ? "rwX" : "rX", root.path), batch);
      for (const ancestor of newAncestors) done.set(key("x", ancestor), batch);
      // A failed attempt is not cached: the next spawn tries again (and reports the error again).
      batch.catch(() => {
        for (const root of newRoots) done.delete(key(root.write ? "rwX" : "rX", root.path));
        for (const ancestor of newAncestors) done.delete(key("x", ancestor));
      });
      pending.push(batch);
    }
    await Promise.all(pending);
  };

  return { grant };
}

/** "/a/b/c" → ["/", "/a", "/a/b"]. */
function ancestorsOf(path: string): string[] {
  const out: string[] = [];
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    out.unshift(dir);
    if (dir === "/") return out;
  }
}

async function applyAcls(uid: number, tools: AccessTools, roots: AccessRoot[], ancestors: string[]) {
  const closed = ancestors.filter((dir) => (statSync(dir).mode & 0o001) === 0);
  const query = [...roots.map((root) => root.path), ...closed];
  if (query.length === 0) return;
  const acls = parseGetfacl(await run(tools.getfacl, ["-pn", "--", ...query]));
  const entry = (path: string, prefix: string) => acls.get(path)?.get(`${prefix}:${uid}`) ?? "";

  const stillClosed = closed.filter((dir) => !entry(dir, "user").includes("x"));
  if (stillClosed.length > 0) await run(tools.setfacl, ["-m", `u:${uid}:x`, "--", ...stillClosed]);

  for (const write of [true, false]) {
    const wanted = write ? ["r", "w", "x"] : ["r", "x"];
    const missing = roots
      .filter((root) => root.write === write)
      .filter((root) => !wanted.every((perm) => entry(root.path, "default:user").includes(perm)))
      .map((root) => root.path);
    if (missing.length === 0) continue;
    const perms = write ? "rwX" : "rX";
    await run(tools.setfacl, [
      "-R",
      "-P",
      "-m",
      `u:${uid}:${perms}`,
      "-m",
      `d:u:${uid}:${perms}`,
      "--",
      ...missing,
    ]);
  }
}

/**
 * Parses `getfacl -pn` output into path → ("user:61000" | "default:user:61000" | …) → effective perms.
 * getfacl escapes unusual bytes in names as `\ooo` octal.
 */
export function parseGetfacl(output: string): Map<string, Map<string, string>> {
  const acls = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const line of output.split("\n")) {
    if (line.startsWith("# file: ")) {
      current = new Map();
      acls.set(unescapeOctal(line.slice("# file: ".length)), current);
      continue;
    }
    if (current === undefined || line === "" || line.startsWith("#")) continue;
    const [spec = "", effective] = line.split("\t#effective:");
    const cut = spec.lastIndexOf(":");
    current.set(spec.slice(0, cut), effective ?? spec.slice(cut + 1));
  }
  return acls;
}

function unescapeOctal(text: string): string {
  if (!text.includes("\\")) return text;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const octal = /^\\([0-7]{3})/.exec(text.slice(i, i + 4));
    if (octal?.[1] !== undefined) {
      bytes.push(Number.parseInt(octal[1], 8));
      i += 3;
    } else {
      bytes.push(...Buffer.from(text[i] ?? ""));
    }
  }
  return Buffer.from(bytes).toString("utf8");
}

function run(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env: { LC_ALL: "C" }, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error === null) return resolve(stdout);
      const paths = args.filter((arg) => arg.startsWith("/")).join(", ");
      reject(
        new KilnError(
          "sandbox_unavailable",
          `Could not give the sandbox user access to ${paths}: ${stderr.trim() || error.message}. ` +
            "The filesystem must support POSIX ACLs; otherwise run Kiln as a non-root user.",
          { cause: error },
        ),
      );
    });
  });
}
