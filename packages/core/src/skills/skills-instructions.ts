import type { Skill } from "./discover-skills.ts";
import template from "./skills-instructions.md";

/** The `## Skills` section of the developer message: each skill as `- name: description`, then how to load one. */
export function skillsInstructions(skills: readonly Skill[]): string {
  const list = skills.map((s) => `- ${s.name}: ${s.description.replace(/\s*\n\s*/g, " ")}`).join("\n");
  // A function replacement: `$` in a description must not be read as a replacement pattern.
  return template.trim().replace("{{skills}}", () => list);
}
