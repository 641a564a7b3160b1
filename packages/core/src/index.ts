export {
  AgentThread,
  foldTurn,
  INTERRUPTED_CALL_OUTPUT,
  type RunOptions,
  type TurnResult,
} from "./agent/agent-thread.ts";
export {
  kilnHomeFrom,
  type LoadConfigOptions,
  loadConfig,
  parseOverride,
  type ResolvedConfig,
} from "./config/load-config.ts";
export { BASE_INSTRUCTIONS, findAgentsFiles, initialContext } from "./instructions/build-instructions.ts";
export { builtInTools, Kiln, type KilnOptions, type ThreadOptions } from "./kiln.ts";
export { createChatClient } from "./model/chat-client.ts";
export { createModelClient } from "./model/create-model-client.ts";
export type { ModelClient, ModelRequest, ModelStreamEvent, ToolSpec } from "./model/model-client.ts";
export { createResponsesClient } from "./model/responses-client.ts";
export { streamWithRetry } from "./model/retry.ts";
export { findLatestRollout, findRollout, listRollouts } from "./rollout/find-rollout.ts";
export { type RolloutState, readRollout } from "./rollout/read-rollout.ts";
export { applyPatch, parsePatch } from "./tools/apply-patch/index.ts";
export type { ApprovalDecision, ApprovalRequest, Tool, ToolContext } from "./tools/tool.ts";
