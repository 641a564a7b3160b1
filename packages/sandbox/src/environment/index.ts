export * from "./apply-diff-to-workspace.ts";
export * from "./copy-workspace.ts";
export * from "./environment-templates.ts";
export type * from "./environment-types.ts";
export * from "./prepare-environment.ts";
export { type WorkspaceDiff, workspaceDiff } from "./workspace-diff.ts";
