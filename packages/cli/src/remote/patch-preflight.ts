// What applying a task's diff to a local work tree would do, file by file, without touching it.
// Each file's part of the diff gets one verdict:
//   - "apply": `git apply --check` takes it;
//   - "already-applied" (skipped): it does not apply, but its reverse does, so the tree already has
//     this very change (e.g. the new file exists with the same content); applying leaves it alone;
//   - "conflict": neither applies (the lines around the change differ, the file to add already exists
//     with other content, the file to change is missing …), with git's reason;
//   - "refused": a path outside the work tree (absolute, `..`, inside `.git`) or a binary change
//     without its content: git would refuse it, and dropping it silently would lose part of the change.
// The diff applies cleanly when no file is in conflict or refused. Checks run at the top of the work
// tree: run from a subdirectory, `git apply` silently skips the files outside it.
import { git } from "./git-command.ts";

/** One file's part of a diff. */
export interface FilePatch {
  /** The file the change leaves (for a deletion: the deleted file). */
  path: string;
  /** For a rename or copy: where it came from. */
  oldPath?: string;
  /** Its `diff --git …` section, as `git apply` reads it. */
  text: string;
  /** A `Binary files … differ` line without the binary patch: there is nothing to apply. */
  binaryWithoutData: boolean;
}

/** What would happen to one file (see the module comment). */
export type FileVerdict = "apply" | "already-applied" | "conflict" | "refused";

/** One file's verdict, with the reason for a conflict or refusal. */
export interface FileCheck {
  patch: FilePatch;
  verdict: FileVerdict;
  reason?: string;
}

/** The verdicts of a whole diff. */
export interface Preflight {
  files: FileCheck[];
  /** True when nothing is in conflict or refused: applying would succeed. */
  clean: boolean;
}

/** Splits a unified git diff into its files' sections. */
export function splitPatch(diff: string): FilePatch[] {
  const sections: string[][] = [];
  for (const line of diff.split(/(?<=\n)/)) {
    if (line.startsWith("diff --git ") || sections.length === 0) sections.push([]);
    sections.at(-1)?.push(line);
  }
  return sections
    .map((lines) => lines.join(""))
    .filter((text) => text.trim() !== "")
    .map(parseSection);
}

function parseSection(text: string): FilePatch {
  const lines = text.split("\n");
  let oldPath: string | undefined;
  let newPath: string | undefined;
  let renamedFrom: string | undefined;
  for (const line of lines) {
    if (line.startsWith("--- ")) oldPath = stripPrefix(unquote(line.slice(4)));
    else if (line.startsWith("+++ ")) newPath = stripPrefix(unquote(line.slice(4)));
    else if (line.startsWith("rename from ") || line.startsWith("copy from "))
      renamedFrom = unquote(line.replace(/^\w+ from /, ""));
    else if (line.startsWith("rename to ") || line.startsWith("copy to "))
      newPath = unquote(line.replace(/^\w+ to /, ""));
    else if (line.startsWith("@@") || line === "GIT binary patch") break;
  }
  if (oldPath === undefined && newPath === undefined) {
    const header = headerPaths(lines[0] ?? "");
    oldPath = header?.[0];
    newPath = header?.[1];
  }
  const path = newPath ?? oldPath ?? renamedFrom ?? "(unknown)";
  const from = renamedFrom ?? (oldPath !== undefined && oldPath !== path ? oldPath : undefined);
  return {
    path,
    ...(from === undefined ? {} : { oldPath: from }),
    text,
    binaryWithoutData:
      lines.some((l) => l.startsWith("Binary files ")) && !lines.includes("GIT binary patch"),
  };
}

/** The two paths of `diff --git a/X b/Y` (quoted, or unquoted with X = Y, as git writes them). */
function headerPaths(header: string): [string, string] | undefined {
  const rest = header.slice("diff --git ".length);
  const quoted = /^("(?:[^"\\]|\\.)*"|\S+) ("(?:[^"\\]|\\.)*"|\S+)$/.exec(rest);
  if (rest.includes('"') && quoted !== null) {
    const a = stripPrefix(unquote(quoted[1] as string));
    const b = stripPrefix(unquote(quoted[2] as string));
    return a === undefined || b === undefined ? undefined : [a, b];
  }
  // Unquoted names may hold spaces: `a/NAME b/NAME` has NAME twice.
  const half = (rest.length - 1) / 2;
  const a = rest.slice(0, half);
  const b = rest.slice(half + 1);
  if (a.startsWith("a/") && b.startsWith("b/") && a.slice(2) === b.slice(2)) return [a.slice(2), b.slice(2)];
  return undefined;
}

/** A path without git's `a/`/`b/` prefix; undefined for `/dev/null`. */
function stripPrefix(path: string): string | undefined {
  const name = path.replace(/\t.*$/, "");
  if (name === "/dev/null") return undefined;
  return /^[ab]\//.test(name) ? name.slice(2) : name;
}

const escapes: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, "\\": 92 };

/** A path as git quotes it (`"tab\there"`, octal bytes for non-ASCII) back to the path. */
export function unquote(raw: string): string {
  if (!raw.startsWith('"') || !raw.endsWith('"') || raw.length < 2) return raw;
  const bytes: number[] = [];
  const body = raw.slice(1, -1);
  for (let i = 0; i < body.length; i++) {
    const ch = body[i] as string;
    if (ch !== "\\") {
      bytes.push(...Buffer.from(ch, "utf8"));
      continue;
    }
    const next = body[i + 1] ?? "";
    const octal = /^[0-7]{3}/.exec(body.slice(i + 1));
    if (octal !== null) {
      bytes.push(Number.parseInt(octal[0], 8));
      i += 3;
    } else {
      bytes.push(escapes[next] ?? next.charCodeAt(0));
      i += 1;
    }
  }
  return Buffer.from(bytes).toString("utf8");
}

/** Why git would refuse `path` (outside the work tree), or undefined when it is a plain relative path. */
export function unsafePathReason(path: string): string | undefined {
  if (path.startsWith("/")) return "an absolute path, outside the work tree";
  const segments = path.split("/");
  if (segments.includes("..")) return "a path outside the work tree (..)";
  if (segments.some((s) => s.toLowerCase() === ".git")) return "a path inside .git";
  return undefined;
}

/** The verdict of each file of `diff` on the work tree at `root` (its top); nothing is changed. */
export async function preflightPatch(
  root: string,
  diff: string,
  env: Record<string, string | undefined>,
  signal?: AbortSignal,
): Promise<Preflight> {
  const run = (args: string[], input: string) =>
    git(args, { cwd: root, env, input, ...(signal === undefined ? {} : { signal }) });
  const patches = splitPatch(diff);
  // The usual case first: the whole diff applies, and one git run says so.
  if (patches.length > 0 && (await run(["apply", "--check", "-"], diff)).code === 0) {
    return { files: patches.map((patch) => ({ patch, verdict: "apply" })), clean: true };
  }
  const files: FileCheck[] = [];
  for (const patch of patches) {
    const unsafe = [patch.path, patch.oldPath]
      .map((p) => (p === undefined ? undefined : unsafePathReason(p)))
      .find((r) => r !== undefined);
    if (unsafe !== undefined) {
      files.push({ patch, verdict: "refused", reason: unsafe });
    } else if (patch.binaryWithoutData) {
      files.push({ patch, verdict: "refused", reason: "a binary change without its content" });
    } else {
      const forward = await run(["apply", "--check", "-"], patch.text);
      if (forward.code === 0) files.push({ patch, verdict: "apply" });
      else if ((await run(["apply", "--check", "--reverse", "-"], patch.text)).code === 0) {
        files.push({ patch, verdict: "already-applied", reason: "the tree already has this change" });
      } else files.push({ patch, verdict: "conflict", reason: gitReason(forward.stderr) });
    }
  }
  return { files, clean: files.every((f) => f.verdict === "apply" || f.verdict === "already-applied") };
}

/** git's error lines as one reason (`error: f: patch does not apply` → `f: patch does not apply`). */
export function gitReason(stderr: string): string {
  const errors = stderr
    .split("\n")
    .filter((l) => l.startsWith("error: ") || l.startsWith("fatal: "))
    .map((l) => l.replace(/^(error|fatal): /, ""));
  return errors.length > 0 ? errors.join("; ") : stderr.trim() || "git apply refused it";
}
