import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KilnError } from "@kiln/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../config/load-config.ts";

let home: string;
let repo: string;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), "kiln-hooks-home-"));
  repo = mkdtempSync(join(tmpdir(), "kiln-hooks-repo-"));
  mkdirSync(join(repo, ".git"));
  mkdirSync(join(repo, ".kiln"));
});

afterEach(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(repo, { recursive: true, force: true });
});

const load = (overrides: string[] = []) => loadConfig({ cwd: repo, env: { KILN_HOME: home }, overrides });

describe("[hooks] in config.toml", () => {
  it("resolves [[hooks.<event>]] tables, each event's list empty when not configured", () => {
    writeFileSync(
      join(home, "config.toml"),
      [
        "[[hooks.pre_tool_use]]",
        'matcher = "exec_command|apply_patch"',
        'command = ["node", "/path/guard.js"]',
        "timeout_ms = 5000",
        "",
        "[[hooks.pre_tool_use]]",
        'command = "echo second"',
        "",
        "[[hooks.stop]]",
        'command = "notify-send done"',
      ].join("\n"),
    );

    expect(load().hooks).toEqual({
      session_start: [],
      pre_tool_use: [
        { matcher: "exec_command|apply_patch", command: ["node", "/path/guard.js"], timeout_ms: 5000 },
        { command: "echo second" },
      ],
      post_tool_use: [],
      stop: [{ command: "notify-send done" }],
    });
  });

  it("lets a later layer replace an event's list, as for every other array key", () => {
    // The repository is trusted here: an untrusted project may not set hooks at all.
    writeFileSync(
      join(home, "config.toml"),
      `[projects."${repo}"]\ntrust_level = "trusted"\n\n[[hooks.post_tool_use]]\ncommand = "global"\n`,
    );
    writeFileSync(join(repo, ".kiln", "config.toml"), '[[hooks.post_tool_use]]\ncommand = "project"\n');

    expect(load().hooks.post_tool_use).toEqual([{ command: "project" }]);
    expect(load(['hooks.post_tool_use=[{command = "flag"}]']).hooks.post_tool_use).toEqual([
      { command: "flag" },
    ]);
  });

  it("names the file and key of a misspelt event or a bad matcher", () => {
    const file = join(home, "config.toml");
    writeFileSync(file, '[[hooks.PreToolUse]]\ncommand = "x"\n');
    expect(() => load()).toThrow(KilnError);
    expect(() => load()).toThrow(`${file}: key "hooks": Unrecognized key: "PreToolUse"`);

    writeFileSync(file, '[[hooks.pre_tool_use]]\nmatcher = "("\ncommand = "x"\n');
    expect(() => load()).toThrow(
      `${file}: key "hooks.pre_tool_use.0.matcher": not a valid regular expression (e.g. "exec_command|apply_patch") (found "(")`,
    );
  });
});
