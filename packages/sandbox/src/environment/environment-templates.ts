import type { EnvironmentTemplate } from "@kiln/protocol";

// Setup scripts run with `bash -e` in the checkout, in a sandbox whose HOME is on a private /tmp: what
// they install into the checkout is kept (and excluded from diffs), caches under HOME are not.

/** The built-in environment templates. */
export const ENVIRONMENT_TEMPLATES: EnvironmentTemplate[] = [
  {
    name: "blank",
    label: "Blank",
    description: "Just the repository, with no setup script. Add your own setup later if you need one.",
    setupScript: "",
    network: "off",
  },
  {
    name: "node",
    label: "Node.js",
    description:
      "Installs dependencies with npm: `npm ci` when package-lock.json (or npm-shrinkwrap.json) exists, " +
      "`npm install` when only package.json does.",
    setupScript: [
      "# Install the project's Node.js dependencies; the lockfile, when there is one, decides exact versions.",
      "if [ -f package-lock.json ] || [ -f npm-shrinkwrap.json ]; then",
      "  npm ci --no-audit --no-fund",
      "elif [ -f package.json ]; then",
      "  npm install --no-audit --no-fund",
      "fi",
      "",
    ].join("\n"),
    network: "off",
  },
  {
    name: "python",
    label: "Python",
    description:
      "Creates a virtual environment in .venv and installs requirements.txt into it when present. " +
      "Run tools as `.venv/bin/python -m …`: each task gets a copy of the tree in another directory, " +
      "so the venv's generated scripts (which name the path they were installed at) do not work there.",
    setupScript: [
      "# A virtual environment inside the checkout, so that it is copied into every task's workspace.",
      "python3 -m venv .venv",
      "if [ -f requirements.txt ]; then",
      "  .venv/bin/python -m pip install --disable-pip-version-check -r requirements.txt",
      "fi",
      "",
    ].join("\n"),
    network: "off",
  },
];

/** The built-in template called `name`, or undefined. */
export function environmentTemplate(name: string): EnvironmentTemplate | undefined {
  return ENVIRONMENT_TEMPLATES.find((template) => template.name === name);
}
