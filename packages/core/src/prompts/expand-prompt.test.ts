import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { expandPrompt, splitArguments } from "./expand-prompt.ts";
import { listPrompts } from "./list-prompts.ts";

let home: string;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), "kiln-prompts-"));
  mkdirSync(join(home, "prompts"));
});

afterEach(() => {
  rmSync(home, { recursive: true, force: true });
});

function writePrompt(name: string, text: string): string {
  const path = join(home, "prompts", `${name}.md`);
  writeFileSync(path, text);
  return path;
}

describe("listPrompts", () => {
  it("lists $KILN_HOME/prompts/*.md by name, with optional front matter, ignoring other files and bad names", () => {
    const review = writePrompt(
      "review",
      "---\ndescription: Review the diff\nargument-hint: FILE=<path> [FOCUS=<section>]\n---\nReview $FILE.\n",
    );
    const plain = writePrompt("plain_one", "Just do it.\n");
    writeFileSync(join(home, "prompts", "notes.txt"), "not a prompt");
    writePrompt("bad name", "x");
    mkdirSync(join(home, "prompts", "folder.md"));
    const linked = join(home, "linked-target.md");
    writeFileSync(linked, "Linked prompt.");
    symlinkSync(linked, join(home, "prompts", "linked.md"));

    expect(listPrompts(home)).toEqual([
      { name: "linked", path: join(home, "prompts", "linked.md"), body: "Linked prompt." },
      { name: "plain_one", path: plain, body: "Just do it.\n" },
      {
        name: "review",
        description: "Review the diff",
        argumentHint: "FILE=<path> [FOCUS=<section>]",
        path: review,
        body: "Review $FILE.\n",
      },
    ]);
  });

  it("finds no prompts when the folder does not exist", () => {
    expect(listPrompts(join(home, "nowhere"))).toEqual([]);
  });
});

describe("expandPrompt", () => {
  it("fills $1…$9 and $ARGUMENTS from shell-like arguments", () => {
    writePrompt(
      "fix",
      "---\ndescription: Fix\n---\nFix $1 in $2 (all: $ARGUMENTS; third: $3; none: [$4]).\n",
    );

    expect(expandPrompt(`/fix "the bug" 'src/a b.ts' extra`, home)).toEqual({
      text: "Fix the bug in src/a b.ts (all: the bug src/a b.ts extra; third: extra; none: []).",
      prompt: "fix",
    });
  });

  it("fills $KEY from KEY=value arguments and keeps the others positional", () => {
    writePrompt("draft", "Branch for $FILES, title $PR_TITLE; rest: $ARGUMENTS");

    expect(expandPrompt('/draft FILES="a.ts b.ts" PR_TITLE=Fix now X=1', home)).toEqual({
      text: "Branch for a.ts b.ts, title Fix; rest: now X=1",
      prompt: "draft",
    });
  });

  it("turns $$ into $, leaves unknown upper-case names such as $HOME alone, and does not expand inside arguments", () => {
    writePrompt("cost", "Costs $$5; run `echo $HOME`; first: $1");

    expect(expandPrompt("/cost $2", home)).toEqual({
      text: "Costs $5; run `echo $HOME`; first: $2",
      prompt: "cost",
    });
  });

  it("accepts Codex's /prompts:NAME form and a prompt with no arguments", () => {
    writePrompt("hello", "Say hello.\n");

    expect(expandPrompt("/prompts:hello", home)).toEqual({ text: "Say hello.", prompt: "hello" });
    expect(expandPrompt("/hello", home)).toEqual({ text: "Say hello.", prompt: "hello" });
  });

  it("passes other input through unchanged: unknown names, built-ins, paths, bad names and plain text", () => {
    writePrompt("hello", "Say hello.");

    for (const input of [
      "/compact",
      "/nope arg",
      "/hello/world",
      "/../hello",
      "/hel.lo",
      " /hello",
      "hello",
      "",
    ]) {
      expect(expandPrompt(input, home)).toEqual({ text: input });
    }
  });

  it("keeps multi-line arguments", () => {
    writePrompt("explain", "Explain: $ARGUMENTS");

    expect(expandPrompt('/explain "line one\nline two"', home)).toEqual({
      text: "Explain: line one\nline two",
      prompt: "explain",
    });
  });
});

describe("splitArguments", () => {
  it("splits on whitespace and honours single quotes, double quotes and backslashes", () => {
    expect(splitArguments(`a  "b c" 'd "e"' f\\ g "h\\"i" '' x=y"z w"`)).toEqual([
      "a",
      "b c",
      'd "e"',
      "f g",
      'h"i',
      "",
      "x=yz w",
    ]);
  });

  it("runs an unterminated quote to the end rather than failing", () => {
    expect(splitArguments(`one "two three`)).toEqual(["one", "two three"]);
    expect(splitArguments("   ")).toEqual([]);
  });
});
