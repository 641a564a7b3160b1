// Runs every apply-patch conformance vector (shared/conformance/apply-patch, taken from Codex) against
// Kiln's engine: copy input/ to a fresh directory, apply patch.txt there, compare the whole directory.
import { existsSync, readdirSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { KilnError } from "@kiln/protocol";
import { describe, expect, it } from "vitest";
import { applyPatch } from "./apply-patch.ts";

/** shared/ next to the repository when present, else the copy vendored for clones without it. */
function vectorsDirectory(): string {
  const shared = process.env.KILN_SHARED_DIR;
  if (shared !== undefined && shared !== "") return path.join(shared, "conformance", "apply-patch");
  const repoRoot = fileURLToPath(new URL("../../../../../", import.meta.url));
  const sibling = path.join(repoRoot, "..", "shared", "conformance", "apply-patch");
  if (existsSync(sibling)) return sibling;
  return fileURLToPath(new URL("../../../test/fixtures/apply-patch/", import.meta.url));
}

/**
 * Cases that must report an error although their name does not say `rejects` or `fails`: updating a
 * missing file (009), and a patch that fails half-way (015).
 */
const ALSO_FAILING = new Set([
  "009_requires_existing_file_for_update",
  "015_failure_after_partial_success_leaves_changes",
]);

/**
 * Kiln's deliberate difference from Codex: a patch is atomic. Codex leaves the files it wrote before
 * the failure (expected/); Kiln must leave the directory exactly as input/.
 */
const ATOMIC_INSTEAD_OF_EXPECTED = new Set(["015_failure_after_partial_success_leaves_changes"]);

const vectors = vectorsDirectory();
const cases = readdirSync(vectors, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

describe(`apply_patch conformance vectors in ${vectors}`, () => {
  it("finds the conformance vectors", () => {
    expect(cases.length).toBeGreaterThan(0);
  });

  for (const name of cases) {
    const caseDirectory = path.join(vectors, name);
    const mustFail = /rejects|fails/.test(name) || ALSO_FAILING.has(name);
    const expectedDirectory = path.join(
      caseDirectory,
      ATOMIC_INSTEAD_OF_EXPECTED.has(name) ? "input" : "expected",
    );
    const outcome = mustFail ? "reports an error and leaves" : "applies and leaves";
    const reference = ATOMIC_INSTEAD_OF_EXPECTED.has(name) ? "input/ (atomic)" : "expected/";

    it(`${name} ${outcome} the directory exactly as ${reference}`, async () => {
      const workspace = await mkdtemp(path.join(tmpdir(), "kiln-apply-patch-conformance-"));
      try {
        await copyTree(path.join(caseDirectory, "input"), workspace);
        const patch = await readFile(path.join(caseDirectory, "patch.txt"), "utf8");

        const result = await applyPatch(patch, { cwd: workspace }).then(
          () => undefined,
          (error: unknown) => error,
        );

        if (mustFail) {
          expect(result).toBeInstanceOf(KilnError);
        } else if (result !== undefined) {
          throw result;
        }
        expect(await readTree(workspace)).toEqual(await readTree(expectedDirectory));
      } finally {
        await rm(workspace, { recursive: true, force: true });
      }
    });
  }
});

describe("the vendored copy of the apply_patch vectors", () => {
  const vendored = fileURLToPath(new URL("../../../test/fixtures/apply-patch/", import.meta.url));
  const canCompare = vectors !== vendored && existsSync(vendored);

  it.skipIf(!canCompare)("matches the shared vectors byte for byte", async () => {
    expect(await readTree(vendored)).toEqual(await readTree(vectors));
  });
});

/** Every file under `directory` (which may be absent) as relative path → bytes. */
async function readTree(directory: string): Promise<Record<string, Buffer>> {
  if (!existsSync(directory)) return {};
  const tree: Record<string, Buffer> = {};
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const absolute = path.join(entry.parentPath, entry.name);
    const relative = path.relative(directory, absolute).split(path.sep).join("/");
    tree[relative] = await readFile(absolute);
  }
  return Object.fromEntries(Object.entries(tree).sort(([a], [b]) => a.localeCompare(b)));
}

/** Copies files (not permissions: the vectors may be read-only) from `from` (which may be absent). */
async function copyTree(from: string, to: string): Promise<void> {
  for (const [relative, bytes] of Object.entries(await readTree(from))) {
    const destination = path.join(to, relative);
    await mkdir(path.dirname(destination), { recursive: true });
    await writeFile(destination, bytes);
  }
}
