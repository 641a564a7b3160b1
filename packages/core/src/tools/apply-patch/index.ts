export type { ApplyPatchOptions, ApplyPatchResult, FileChange } from "./apply-patch.ts";
export { applyPatch } from "./apply-patch.ts";
export { APPLY_PATCH_DESCRIPTION } from "./description.ts";
export { APPLY_PATCH_LARK_GRAMMAR } from "./grammar.ts";
export type {
  AddFileHunk,
  DeleteFileHunk,
  ParsedPatch,
  PatchHunk,
  UpdateChunk,
  UpdateFileHunk,
} from "./parse-patch.ts";
export { parsePatch } from "./parse-patch.ts";
export { seekSequence } from "./seek-sequence.ts";
