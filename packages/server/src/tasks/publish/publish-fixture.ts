// For the publish tests: a real repository to publish to, and attempt diffs made by git itself.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { createTempGitRepo } from "@kiln/test-support";

const execFileAsync = promisify(execFile);

/** An attempt's result as `git diff --binary` shows it, and the tree it should produce. */
export interface FixtureDiff {
  diff: string;
  tree: string;
}

/** A bare repository (`main` is one commit ahead of the base), and two attempts' diffs against the base. */
export interface PublishFixture {
  /** The parent of every directory below. */
  root: string;
  /** The bare repository to publish to (see `resetBare`). */
  bare: string;
  /** A scratch directory for publishAttempt. */
  workDir: string;
  /** The commit the diffs apply to: `main~1`, so not a branch tip. */
  baseCommit: string;
  /** Adds a file, edits a text file, edits a binary file and adds a binary file. */
  first: FixtureDiff;
  /** Different edits of the same files. */
  second: FixtureDiff;
  /** Makes `bare` afresh: `main` and nothing else, as before any publish. */
  resetBare(): Promise<void>;
  /** Runs git in the bare repository. */
  bareGit(...args: string[]): Promise<string>;
  /** Every file under `dir`, as text (for looking for leaked secrets). */
  readAll(dir: string): Promise<string>;
  cleanup(): Promise<void>;
}

/** Builds the fixture: a temp repository → a bare template clone → the attempts' commits (not in the
 *  template) → their diffs. Call `resetBare` before using `bare`. */
export async function createPublishFixture(): Promise<PublishFixture> {
  const root = await mkdtemp(join(tmpdir(), "kiln-publish-"));
  const source = await createTempGitRepo({
    "README.md": "# Widgets\n",
    "src/app.ts": "export const answer = 42;\n",
  });
  const write = async (path: string, content: string | Buffer) => {
    await mkdir(dirname(join(source.dir, path)), { recursive: true });
    await writeFile(join(source.dir, path), content);
  };
  const commitAll = async (message: string) => {
    await source.git("add", "-A");
    await source.git("commit", "-q", "-m", message);
    return (await source.git("rev-parse", "HEAD")).trim();
  };
  await write("assets/logo.bin", Buffer.from(Array.from({ length: 256 }, (_, i) => i)));
  const baseCommit = await commitAll("add the logo");
  await write("CHANGELOG.md", "## 1.0\n");
  await commitAll("changelog");

  const template = join(root, "template.git");
  const bare = join(root, "widgets.git");
  await source.git("clone", "-q", "--bare", source.dir, template);

  const attempt = async (name: string, edits: Record<string, string | Buffer>): Promise<FixtureDiff> => {
    await source.git("checkout", "-q", "-b", name, baseCommit);
    for (const [path, content] of Object.entries(edits)) await write(path, content);
    const commit = await commitAll(name);
    return {
      diff: await source.git("diff", "--binary", baseCommit, commit),
      tree: (await source.git("rev-parse", `${commit}^{tree}`)).trim(),
    };
  };
  const first = await attempt("attempt-1", {
    "README.md": "# Widgets\n\nNow with gears.\n",
    "src/gears.ts": "export const gears = 3;\n",
    "assets/logo.bin": Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i)),
    "assets/icon.bin": Buffer.from([0, 0, 1, 2, 3, 0, 0xff, 0xfe]),
  });
  const second = await attempt("attempt-2", {
    "README.md": "# Widgets\n\nNow with springs.\n",
    "src/springs.ts": "export const springs = 2;\n",
    "assets/icon.bin": Buffer.from([0, 9, 9, 9, 0]),
  });

  const workDir = join(root, "work");
  await mkdir(workDir);
  return {
    root,
    bare,
    workDir,
    baseCommit,
    first,
    second,
    async resetBare() {
      await rm(bare, { recursive: true, force: true });
      await source.git("clone", "-q", "--bare", template, bare);
    },
    async bareGit(...args) {
      const { stdout } = await execFileAsync("git", ["-C", bare, ...args], {
        env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" },
      });
      return stdout;
    },
    readAll,
    async cleanup() {
      await source.cleanup();
      await rm(root, { recursive: true, force: true });
    },
  };
}

async function readAll(dir: string): Promise<string> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  const texts = await Promise.all(files.map((file) => readFile(file, "latin1")));
  return texts.join("\n");
}
