/// <reference types="node" />
// Debian's Chromium driven by playwright-core (Playwright's own browser downloads cannot be fetched
// here, so `npx playwright install` is never used). A missing browser is a failure with the command
// that fixes it, never a silent skip: CI (.ci/run) installs the package.
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

/** Where Debian's `chromium` package puts the browser; KILN_TEST_CHROMIUM overrides it. */
export const CHROMIUM_PATH = process.env.KILN_TEST_CHROMIUM ?? "/usr/bin/chromium";

/** Flags that keep a headless Chromium quiet and offline (nothing but the pages under test is fetched). */
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Launches headless Chromium; throws an actionable error when it is not installed. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `The browser tests need Chromium at ${CHROMIUM_PATH}, which does not exist: install it with ` +
        "`apt-get install chromium` (CI's .ci/run does), or point KILN_TEST_CHROMIUM at a Chromium binary.",
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}
