import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HistoryToolCall, ThreadEvent } from "@kiln/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runToolCalls } from "../../tools/run-tool-calls.ts";
import type { Tool, ToolContext } from "../../tools/tool.ts";
import { discoverSkills, type Skill } from "../discover-skills.ts";
import { createLoadSkillTool, MAX_FILE_BYTES, MAX_LISTED_FILES } from "./load-skill.ts";

let home: string;
let outside: string;
let dir: string;
let skills: Skill[];

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), "kiln-load-skill-"));
  outside = mkdtempSync(join(tmpdir(), "kiln-outside-"));
  dir = join(home, "skills", "pdf");
  mkdirSync(join(dir, "scripts"), { recursive: true });
  mkdirSync(join(dir, ".git"), { recursive: true });
  writeFileSync(
    join(dir, "SKILL.md"),
    "---\nname: pdf\ndescription: Fill in PDF forms\n---\n\n# PDF forms\n\nRun scripts/fill.py.\n",
  );
  writeFileSync(join(dir, "reference.md"), "Field names are case-sensitive.\n");
  writeFileSync(join(dir, "scripts", "fill.py"), "print('fill')\n");
  writeFileSync(join(dir, ".git", "HEAD"), "ref: x\n");
  writeFileSync(join(outside, "secret.txt"), "top secret\n");
  skills = discoverSkills({ kilnHome: home, repoRoot: join(home, "no-repo") }).skills;
});

afterEach(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

/** Runs one load_skill call the way a turn does and returns its output and the events it emitted. */
async function load(args: Record<string, unknown>): Promise<{ output: string; events: ThreadEvent[] }> {
  const tool = createLoadSkillTool(skills);
  const events: ThreadEvent[] = [];
  let output = "";
  const call: HistoryToolCall = {
    type: "function_call",
    call_id: "call_1",
    name: "load_skill",
    arguments: JSON.stringify(args),
  };
  const ctx = {
    emit: (e: ThreadEvent) => {
      events.push(e);
    },
    newItemId: () => "item_1",
  } as ToolContext;
  await runToolCalls(
    [call],
    new Map([[tool.name, tool as Tool]]),
    () => ctx,
    (item) => {
      if (item.type === "function_call_output") output = item.output;
    },
  );
  return { output, events };
}

describe("load_skill", () => {
  it("returns SKILL.md without its front matter and lists the other files, emitting a toolCall item", async () => {
    const { output, events } = await load({ name: "pdf" });

    const expected = [
      `Skill "pdf" (folder: ${dir})`,
      "# PDF forms\n\nRun scripts/fill.py.",
      "Other files in this skill's folder:\n- reference.md\n- scripts/fill.py",
      'Read one with load_skill {"name": "pdf", "file": "<path>"}; the folder may be outside the sandbox, so do not read it with commands.',
    ].join("\n\n");
    expect(output).toBe(expected);
    expect(events).toEqual([
      {
        type: "item/started",
        item: {
          id: "item_1",
          type: "toolCall",
          tool: "load_skill",
          arguments: { name: "pdf" },
          status: "in_progress",
        },
      },
      {
        type: "item/completed",
        item: {
          id: "item_1",
          type: "toolCall",
          tool: "load_skill",
          arguments: { name: "pdf" },
          output: expected,
          status: "completed",
        },
      },
    ]);
  });

  it("reads one file of the skill's folder", async () => {
    expect((await load({ name: "pdf", file: "scripts/fill.py" })).output).toBe("print('fill')\n");
    expect((await load({ name: "pdf", file: "./reference.md" })).output).toBe(
      "Field names are case-sensitive.\n",
    );
  });

  it("refuses .. and absolute paths, and reports the failure on the item", async () => {
    const dotdot = await load({ name: "pdf", file: "../../../etc/passwd" });
    expect(dotdot.output).toBe(
      'Error: refused: "../../../etc/passwd" leads out of the skill folder; give a path inside it, as listed by load_skill {"name": "pdf"}',
    );
    expect(dotdot.events.at(-1)).toEqual({
      type: "item/completed",
      item: {
        id: "item_1",
        type: "toolCall",
        tool: "load_skill",
        arguments: { name: "pdf", file: "../../../etc/passwd" },
        output: dotdot.output,
        status: "failed",
      },
    });
    expect((await load({ name: "pdf", file: join(outside, "secret.txt") })).output).toBe(
      `Error: refused: file must be a path relative to the skill folder, not an absolute path ("${join(outside, "secret.txt")}")`,
    );
  });

  it("refuses a symlink that leads out of the skill folder, and follows one that stays inside", async () => {
    symlinkSync(join(outside, "secret.txt"), join(dir, "secret.txt"));
    symlinkSync(outside, join(dir, "scripts", "out"));
    symlinkSync(join(dir, "reference.md"), join(dir, "ref-link.md"));

    expect((await load({ name: "pdf", file: "secret.txt" })).output).toBe(
      'Error: refused: "secret.txt" is a symbolic link leading out of the skill folder',
    );
    expect((await load({ name: "pdf", file: "scripts/out/secret.txt" })).output).toBe(
      'Error: refused: "scripts/out/secret.txt" is a symbolic link leading out of the skill folder',
    );
    expect((await load({ name: "pdf", file: "ref-link.md" })).output).toBe(
      "Field names are case-sensitive.\n",
    );
  });

  it("tells the model about unknown skills, missing files, folders and binary files", async () => {
    expect((await load({ name: "docx" })).output).toBe('Error: no skill named "docx"; available skills: pdf');
    expect((await load({ name: "pdf", file: "nope.md" })).output).toBe(
      'Error: skill "pdf" has no file "nope.md"; its files: reference.md, scripts/fill.py',
    );
    expect((await load({ name: "pdf", file: "scripts" })).output).toBe(
      'Error: "scripts" is a folder; read one of its files: scripts/fill.py',
    );
    writeFileSync(join(dir, "logo.png"), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2]));
    expect((await load({ name: "pdf", file: "logo.png" })).output).toBe(
      'Error: "logo.png" is a binary file (7 bytes); load_skill shows text files only',
    );
    expect((await load({ file: "x" })).output).toBe(
      'Error: invalid arguments for load_skill at "name": Invalid input: expected string, received undefined',
    );
  });

  it("lists at most 50 files and cuts a long file, saying so", async () => {
    for (let i = 0; i < MAX_LISTED_FILES + 5; i++)
      writeFileSync(join(dir, `f${String(i).padStart(2, "0")}.txt`), "x");
    writeFileSync(join(dir, "big.txt"), "a".repeat(MAX_FILE_BYTES + 10));

    const listing = (await load({ name: "pdf" })).output;
    expect(listing.match(/^- /gm)).toHaveLength(MAX_LISTED_FILES);
    expect(listing).toContain(`(only the first ${MAX_LISTED_FILES} files are listed)`);
    expect((await load({ name: "pdf", file: "big.txt" })).output).toBe(
      `${"a".repeat(MAX_FILE_BYTES)}\n[truncated: showing the first ${MAX_FILE_BYTES} of ${MAX_FILE_BYTES + 10} bytes]`,
    );
  });

  it("is read-only", () => {
    const tool = createLoadSkillTool(skills);
    expect(tool.isMutating({ name: "pdf" })).toBe(false);
  });
});
