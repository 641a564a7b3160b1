// The model's markdown is rendered but never runs. DOMPurify needs a real DOM (happy-dom's nodes do
// not answer its prototype getters, so it cannot sanitize there): this test bundles renderMarkdown
// for the browser and runs it in headless Chromium, inserting the result into a live page as the app
// does, so a surviving `onerror` or script would actually run.
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../../test/browser/launch-chromium.ts";

let browser: Browser;
let page: Page;

beforeAll(async () => {
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL("./render-markdown.ts", import.meta.url))],
    bundle: true,
    platform: "browser",
    format: "iife",
    globalName: "kilnMarkdown",
    write: false,
    logLevel: "silent",
  });
  browser = await launchChromium();
  page = await browser.newPage();
  await page.setContent("<!doctype html><html><body><div id=out></div></body></html>");
  await page.addScriptTag({ content: bundle.outputFiles[0]!.text });
}, 30_000);
afterAll(async () => {
  await browser?.close();
});

/** Renders `markdown` into the page's #out and returns the resulting HTML. */
async function renderInPage(markdown: string): Promise<string> {
  return page.evaluate((text) => {
    const out = document.getElementById("out")!;
    out.innerHTML = (
      window as unknown as { kilnMarkdown: { renderMarkdown(t: string): string } }
    ).kilnMarkdown.renderMarkdown(text);
    return out.innerHTML;
  }, markdown);
}

describe("renderMarkdown in a browser", () => {
  it("drops <script>, onerror handlers and javascript: links from the model's text, so none of them runs", async () => {
    const hostile = [
      "Here you go <script>window.pwned = 1</script>",
      '<img src="data:," onerror="window.pwned = 2">',
      "[click](javascript:window.pwned=3)",
      '<a href="https://example.com" onclick="window.pwned=4">site</a>',
      "<svg><script>window.pwned = 5</script></svg>",
      '<iframe src="javascript:parent.pwned=6"></iframe>',
    ].join("\n\n");
    const html = await renderInPage(hostile);
    expect(html).not.toMatch(/<script|onerror|onclick|javascript:|<iframe|<svg|pwned/);
    await page.evaluate(async () => {
      // Give a surviving image handler the chance to fire.
      await new Promise((resolve) => setTimeout(resolve, 100));
    });
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    expect(await page.evaluate(() => document.querySelector("#out img")?.getAttribute("src"))).toBe("data:,");
    const links = await page.evaluate(() =>
      [...document.querySelectorAll("#out a")].map((a) => [
        a.textContent,
        a.getAttribute("href"),
        a.getAttribute("target"),
        a.getAttribute("rel"),
      ]),
    );
    expect(links).toEqual([
      ["click", null, null, null],
      ["site", "https://example.com", "_blank", "noopener noreferrer"],
    ]);
  });

  it("renders GitHub-flavoured markdown with code blocks highlighted by language", async () => {
    await renderInPage("# Title\n\n- [x] done\n\n```ts\nconst x: number = 1;\n```\n\n`inline`");
    const shape = await page.evaluate(() => {
      const out = document.getElementById("out")!;
      const code = out.querySelector("pre.code-block code");
      return {
        h1: out.querySelector("h1")?.textContent,
        checked: (out.querySelector("li input[type=checkbox]") as HTMLInputElement | null)?.checked,
        codeClass: code?.className,
        keyword: code?.querySelector(".hljs-keyword")?.textContent,
        code: code?.textContent,
        inline: out.querySelector("p > code")?.textContent,
      };
    });
    expect(shape).toEqual({
      h1: "Title",
      checked: true,
      codeClass: "hljs language-ts",
      keyword: "const",
      code: "const x: number = 1;",
      inline: "inline",
    });
  });

  it("escapes HTML inside code blocks of unknown languages", async () => {
    await renderInPage("```weird\n<b>not bold</b>\n```");
    expect(await page.evaluate(() => document.querySelector("#out b"))).toBeNull();
    expect(await page.evaluate(() => document.querySelector("#out code")?.textContent)).toBe(
      "<b>not bold</b>",
    );
  });
});
