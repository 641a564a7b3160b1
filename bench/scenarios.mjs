// The scripted task the exec benchmark runs: a small repository and a fake model that calls
// `exec_command` once per step with cheap, varied commands, then answers with a final message.

/** The workspace each run starts from. */
export const repoFiles = {
  "README.md": "# bench\n\nA tiny project for timing kiln exec.\n",
  "src/sum.js": "export function sum(a, b) {\n  return a + b;\n}\n",
  "src/sum.test.js": 'import { sum } from "./sum.js";\nif (sum(1, 2) !== 3) throw new Error("sum");\n',
};

/** Cheap commands, cycled through: builtins, a coreutil, a read, and git (the heaviest of them). */
const commands = [
  (n) => `echo step ${n}`,
  () => "ls",
  () => "cat src/sum.js",
  () => "git status --short",
  () => "wc -l README.md src/sum.js",
];

/** A scenario of `steps` model turns with one `exec_command` call each, then one final message. */
export function scriptedTask(steps) {
  const calls = Array.from({ length: steps }, (_, i) => ({
    output: [{ type: "exec_command", cmd: commands[i % commands.length](i + 1) }],
  }));
  return { steps: [...calls, { output: [{ type: "message", text: "Done." }] }] };
}
