import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Skill } from "../skills/discover-skills.ts";
import { skillsInstructions } from "../skills/skills-instructions.ts";
import {
  agentsText,
  BASE_INSTRUCTIONS,
  environmentContext,
  findAgentsFiles,
  type InstructionsContext,
  initialContext,
  repositoryRoot,
} from "./build-instructions.ts";

let home: string;
let outer: string;
let repo: string;
let cwd: string;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), "kiln-home-"));
  outer = mkdtempSync(join(tmpdir(), "kiln-outer-"));
  repo = join(outer, "repo");
  cwd = join(repo, "packages", "app");
  mkdirSync(join(repo, ".git"), { recursive: true });
  mkdirSync(cwd, { recursive: true });
});

afterEach(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(outer, { recursive: true, force: true });
});

function ctx(overrides: Partial<InstructionsContext> = {}): InstructionsContext {
  return {
    cwd,
    kilnHome: home,
    sandbox: "workspace-write",
    networkAccess: false,
    approvalPolicy: "on-request",
    projectDocMaxBytes: 32 * 1024,
    now: new Date("2025-03-04T23:59:00Z"),
    ...overrides,
  };
}

describe("findAgentsFiles", () => {
  it("lists $KILN_HOME's AGENTS.md, then the repository root's down to cwd, most general first", () => {
    for (const dir of [home, outer, repo, join(repo, "packages"), cwd]) {
      writeFileSync(join(dir, "AGENTS.md"), `rules of ${dir}\n`);
    }

    expect(findAgentsFiles(cwd, home)).toEqual([
      join(home, "AGENTS.md"),
      join(repo, "AGENTS.md"),
      join(repo, "packages", "AGENTS.md"),
      join(cwd, "AGENTS.md"),
    ]);
  });

  it("skips directories without an AGENTS.md and finds none when there are none", () => {
    expect(findAgentsFiles(cwd, home)).toEqual([]);
    writeFileSync(join(repo, "packages", "AGENTS.md"), "x");

    expect(findAgentsFiles(cwd, home)).toEqual([join(repo, "packages", "AGENTS.md")]);
  });

  it("reads only cwd's AGENTS.md outside a git repository", () => {
    const plain = join(outer, "plain", "sub");
    mkdirSync(plain, { recursive: true });
    writeFileSync(join(outer, "plain", "AGENTS.md"), "parent");
    writeFileSync(join(plain, "AGENTS.md"), "here");

    expect(findAgentsFiles(plain, home)).toEqual([join(plain, "AGENTS.md")]);
  });
});

describe("repositoryRoot", () => {
  it("is the nearest directory above cwd with .git, or cwd itself without one", () => {
    expect(repositoryRoot(cwd)).toBe(repo);
    expect(repositoryRoot(repo)).toBe(repo);
    expect(repositoryRoot(outer)).toBe(outer);
  });
});

describe("agentsText", () => {
  it("wraps each file in an INSTRUCTIONS block headed by its directory relative to cwd", () => {
    writeFileSync(join(repo, "AGENTS.md"), "Use npm.\n");
    writeFileSync(join(cwd, "AGENTS.md"), "\n  Run the app tests.  \n");

    expect(agentsText([join(repo, "AGENTS.md"), join(cwd, "AGENTS.md")], cwd, 1000)).toBe(
      [
        "# AGENTS.md instructions for ../..\n\n<INSTRUCTIONS>\nUse npm.\n</INSTRUCTIONS>",
        "# AGENTS.md instructions for .\n\n<INSTRUCTIONS>\nRun the app tests.\n</INSTRUCTIONS>",
      ].join("\n\n"),
    );
  });

  it("caps the text across files, notes the cut, and drops files past the cap", () => {
    const files = [join(repo, "AGENTS.md"), join(repo, "packages", "AGENTS.md"), join(cwd, "AGENTS.md")];
    writeFileSync(files[0]!, "a".repeat(30));
    writeFileSync(files[1]!, "b".repeat(30));
    writeFileSync(files[2]!, "c".repeat(30));

    expect(agentsText(files, cwd, 40)).toBe(
      [
        `# AGENTS.md instructions for ../..\n\n<INSTRUCTIONS>\n${"a".repeat(30)}\n</INSTRUCTIONS>`,
        `# AGENTS.md instructions for ..\n\n<INSTRUCTIONS>\n${"b".repeat(10)}\n[truncated: AGENTS.md text is capped at 40 bytes]\n</INSTRUCTIONS>`,
      ].join("\n\n"),
    );
  });

  it("does not leave half a multi-byte character at the cut", () => {
    writeFileSync(join(cwd, "AGENTS.md"), "ééé");

    expect(agentsText([join(cwd, "AGENTS.md")], cwd, 3)).toBe(
      "# AGENTS.md instructions for .\n\n<INSTRUCTIONS>\né\n[truncated: AGENTS.md text is capped at 3 bytes]\n</INSTRUCTIONS>",
    );
  });

  // BUG: when one file uses up the budget exactly, the next files are dropped without the truncation
  // note, so neither the model nor the user learns that the more specific AGENTS.md was left out.
  it("notes the cut when a later file is dropped because an earlier one filled the cap", () => {
    writeFileSync(join(repo, "AGENTS.md"), "a".repeat(40));
    writeFileSync(join(cwd, "AGENTS.md"), "c".repeat(10));

    expect(agentsText([join(repo, "AGENTS.md"), join(cwd, "AGENTS.md")], cwd, 40)).toContain(
      "[truncated: AGENTS.md text is capped at 40 bytes]",
    );
  });
});

describe("environmentContext", () => {
  it("gives cwd, shell, date, sandbox, network and approval policy", () => {
    expect(environmentContext(ctx({ shell: "zsh" }))).toBe(
      [
        "<environment_context>",
        `  <cwd>${cwd}</cwd>`,
        "  <shell>zsh</shell>",
        "  <current_date>2025-03-04</current_date>",
        "  <sandbox_mode>workspace-write</sandbox_mode>",
        "  <network_access>restricted</network_access>",
        "  <approval_policy>on-request</approval_policy>",
        "</environment_context>",
      ].join("\n"),
    );
  });

  it("defaults the shell to bash and shows network enabled when allowed or unsandboxed", () => {
    const open = environmentContext(ctx({ networkAccess: true, approvalPolicy: "never" }));
    const full = environmentContext(ctx({ sandbox: "danger-full-access" }));

    expect(open).toContain("  <shell>bash</shell>\n");
    expect(open).toContain(
      "  <network_access>enabled</network_access>\n  <approval_policy>never</approval_policy>",
    );
    expect(full).toContain(
      "  <sandbox_mode>danger-full-access</sandbox_mode>\n  <network_access>enabled</network_access>",
    );
  });
});

describe("initialContext", () => {
  it("opens with a developer message (permissions, then AGENTS.md) and a user environment_context message", () => {
    writeFileSync(join(home, "AGENTS.md"), "Be brief.");
    writeFileSync(join(cwd, "AGENTS.md"), "App rules.");
    const c = ctx({ sandbox: "read-only", approvalPolicy: "untrusted" });

    expect(initialContext(c)).toEqual([
      {
        type: "message",
        role: "developer",
        content: [
          {
            type: "input_text",
            text: [
              "<permissions instructions>",
              "The sandbox is read-only: commands can read files but not write anywhere; apply_patch needs approval.",
              "Network access is restricted (no network access).",
              "Commands other than known-safe reads are shown to the user for approval before they run.",
              "</permissions instructions>",
              "",
              agentsText([join(home, "AGENTS.md"), join(cwd, "AGENTS.md")], cwd, c.projectDocMaxBytes),
            ].join("\n"),
          },
        ],
      },
      { type: "message", role: "user", content: [{ type: "input_text", text: environmentContext(c) }] },
    ]);
  });

  it("gives only the permissions when there is no AGENTS.md, naming the workspace for workspace-write", () => {
    const [developer] = initialContext(ctx({ approvalPolicy: "on-failure", networkAccess: true }));

    expect(developer).toEqual({
      type: "message",
      role: "developer",
      content: [
        {
          type: "input_text",
          text: [
            "<permissions instructions>",
            `The sandbox lets commands write inside the workspace (${cwd}) and /tmp only.`,
            "Network access is enabled.",
            "Commands run in the sandbox; if one fails because of the sandbox, the user may approve running it outside.",
            "</permissions instructions>",
          ].join("\n"),
        },
      ],
    });
  });

  it("lists the skills after AGENTS.md, with how to load them, and leaves the message as it was without skills", () => {
    writeFileSync(join(cwd, "AGENTS.md"), "App rules.");
    const skills: Skill[] = [
      {
        name: "pdf",
        description: "Fill in PDF forms",
        path: "/s/pdf/SKILL.md",
        dir: "/s/pdf",
        scope: "global",
      },
      {
        name: "release",
        description: "Cut a release\nof this repo",
        path: "/r/release/SKILL.md",
        dir: "/r/release",
        scope: "repo",
      },
    ];
    const text = (items: ReturnType<typeof initialContext>) => {
      const first = items[0];
      return first?.type === "message" ? first.content.map((p) => ("text" in p ? p.text : "")).join("") : "";
    };
    const without = text(initialContext(ctx()));

    expect(text(initialContext(ctx({ skills: [] })))).toBe(without);
    expect(text(initialContext(ctx({ skills })))).toBe(`${without}\n\n${skillsInstructions(skills)}`);
    expect(skillsInstructions(skills)).toBe(
      [
        "## Skills",
        "",
        "Skills are folders of instructions, scripts and reference files for particular kinds of tasks. These",
        "skills are available:",
        "",
        "- pdf: Fill in PDF forms",
        "- release: Cut a release of this repo",
        "",
        "How to use a skill:",
        "",
        "- Before you start a task that matches a skill's description, or when the user names a skill, call the",
        '  `load_skill` tool with `{"name": "<skill>"}`: it returns the skill\'s instructions (SKILL.md) and the',
        "  list of the other files in its folder. Then follow those instructions.",
        "- Read another file of the skill only when the instructions call for it, with",
        '  `load_skill` `{"name": "<skill>", "file": "<path relative to the skill folder>"}`.',
        "- Skill folders may live outside the sandbox: read them with `load_skill` only, never with `cat` or",
        "  other commands.",
        "- Load only the skills the task needs; do not load every skill up front.",
      ].join("\n"),
    );
  });

  it("ships non-empty base instructions", () => {
    expect(BASE_INSTRUCTIONS.length).toBeGreaterThan(100);
  });
});
