import { realpathSync, statSync } from "node:fs";
import { resolve } from "node:path";

/**
 * Whether `path` is a regular file whose real location (symlinks followed) lies inside one of
 * `roots`. Files Kiln reads on the host from a workspace the sandbox can write (AGENTS.md, SKILL.md)
 * must pass this, or a symlink would make Kiln read /etc/shadow for the model.
 */
export function isConfinedFile(path: string, roots: string[]): boolean {
  let real: string;
  try {
    real = realpathSync(path);
    if (!statSync(real).isFile()) return false;
  } catch {
    return false;
  }
  return roots.some((root) => {
    let realRoot: string;
    try {
      realRoot = realpathSync(resolve(root));
    } catch {
      return false;
    }
    return real === realRoot || real.startsWith(`${realRoot}/`);
  });
}
