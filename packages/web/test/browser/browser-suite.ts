/// <reference types="node" />
// One browser-test file's fixtures: a `kiln serve` (with its fake model) and a Chromium, both shared
// by the file's tests (starting them is most of a test's cost); each test gets fresh browser contexts.
// After every test the last page it opened is saved as test-output/browser/<test name>.png, and when a
// test fails the page's console errors and the server's stderr are printed, since a screenshot alone
// rarely says why a locator was never found.
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { Scenario } from "@kiln/test-support";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll } from "vitest";
import type { CuttableProxy } from "./cuttable-proxy.ts";
import { type KilnUnderTest, startKilnUnderTest } from "./kiln-under-test.ts";
import { launchChromium } from "./launch-chromium.ts";

/** test-output/browser at the repository's root. */
export const SCREENSHOT_DIR = fileURLToPath(new URL("../../../../test-output/browser/", import.meta.url));

/** How long a Playwright action or wait may take before it fails with its own message. */
const ACTION_TIMEOUT_MS = 15_000;

/** How a test's page starts. */
export interface OpenOptions {
  /** Start with the admin's session cookie (default true). */
  signedIn?: boolean;
  /** Default 1280 × 800. */
  viewport?: { width: number; height: number };
  /** The `prefers-color-scheme` the page sees (default `light`). */
  colorScheme?: "light" | "dark";
  /** Where the page loads from (default the server's URL; e.g. a {@link CuttableProxy} in front of it). */
  baseUrl?: string;
}

/** The fixtures of one browser-test file (valid inside tests and hooks). */
export interface BrowserSuite {
  readonly kiln: KilnUnderTest;
  readonly browser: Browser;
  /** A fresh context and page at `path` (default `/`), on the shared server. */
  open(path?: string, options?: OpenOptions): Promise<{ page: Page; context: BrowserContext }>;
}

/** Registers the hooks of a browser-test file and returns its fixtures. */
export function browserSuite(options: { scenario?: Scenario } = {}): BrowserSuite {
  let kiln: KilnUnderTest | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  let lastPage: Page | undefined;
  let log: string[] = [];

  beforeAll(async () => {
    const [k, b] = await Promise.allSettled([
      startKilnUnderTest(options.scenario === undefined ? {} : { scenario: options.scenario }),
      launchChromium(),
    ]);
    if (k.status === "fulfilled") kiln = k.value;
    if (b.status === "fulfilled") browser = b.value;
    if (b.status === "rejected") throw b.reason;
    if (k.status === "rejected") throw k.reason;
    await mkdir(SCREENSHOT_DIR, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await kiln?.close();
  });

  afterEach(async (ctx) => {
    const page = lastPage;
    if (page !== undefined && !page.isClosed()) {
      await page.screenshot({ path: screenshotPath(ctx.task.name), fullPage: true }).catch(() => undefined);
    }
    if (ctx.task.result?.state === "fail") {
      const tail = kiln?.stderr().split("\n").slice(-30).join("\n") ?? "";
      console.error(
        `[${ctx.task.name}] at ${page?.url() ?? "(no page)"}\n--- browser log ---\n${log.join("\n") || "(empty)"}\n--- kiln serve stderr (tail) ---\n${tail}`,
      );
    }
    for (const context of contexts.splice(0)) await context.close().catch(() => undefined);
    lastPage = undefined;
    log = [];
  });

  return {
    get kiln() {
      if (kiln === undefined) throw new Error("the Kiln server is not running (beforeAll failed)");
      return kiln;
    },
    get browser() {
      if (browser === undefined) throw new Error("Chromium is not running (beforeAll failed)");
      return browser;
    },
    async open(path = "/", open: OpenOptions = {}) {
      if (kiln === undefined || browser === undefined) throw new Error("the browser suite did not start");
      const context = await browser.newContext({
        baseURL: open.baseUrl ?? kiln.url,
        viewport: open.viewport ?? { width: 1280, height: 800 },
        colorScheme: open.colorScheme ?? "light",
      });
      contexts.push(context);
      context.setDefaultTimeout(ACTION_TIMEOUT_MS);
      if (open.signedIn !== false) await context.addCookies(kiln.adminCookies);
      const page = await context.newPage();
      lastPage = page;
      page.on("pageerror", (error) => log.push(`pageerror: ${error.message}`));
      page.on("console", (message) => {
        if (message.type() === "error" || message.type() === "warning")
          log.push(`console.${message.type()}: ${message.text()}`);
      });
      page.on("requestfailed", (request) =>
        log.push(`requestfailed: ${request.method()} ${request.url()} ${request.failure()?.errorText ?? ""}`),
      );
      await page.goto(path);
      return { page, context };
    },
  };
}

/** Where the screenshot of the test called `name` goes. */
export function screenshotPath(name: string): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "")
    .slice(0, 120);
  return `${SCREENSHOT_DIR}${slug}.png`;
}
