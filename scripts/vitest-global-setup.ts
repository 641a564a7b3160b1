import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/** Integration tests run the real bundled CLI: build it once before the suite. */
export default function setup(): void {
  const root = fileURLToPath(new URL("..", import.meta.url));
  execFileSync("node", ["scripts/build.mjs"], { cwd: root, stdio: "inherit" });
}
