export { HookDecision, HookInput } from "@kiln/protocol";
export {
  AgentThread,
  foldTurn,
  INTERRUPTED_CALL_OUTPUT,
  type RunOptions,
  type TurnResult,
} from "./agent/agent-thread.ts";
export { ApprovalGate, type Approver, type PendingApproval } from "./agent/approval-gate.ts";
export { COMPACTION_PROMPT, historyTokens, rebuildHistory } from "./agent/compaction.ts";
export {
  INTERRUPTED_STEP_OUTPUT,
  type JournaledStep,
  journaledStep,
  type StepJournal,
} from "./agent/step-journal.ts";
export type {
  SubAgentControl,
  SubAgentHost,
  SubAgentParent,
  SubAgentResult,
} from "./agent/sub-agents.ts";
export {
  kilnHomeFrom,
  type LoadConfigOptions,
  loadConfig,
  parseOverride,
  type ResolvedConfig,
} from "./config/load-config.ts";
export {
  createHookRunner,
  type HookOutcome,
  type HookPayload,
  type HookRunner,
} from "./hooks/hook-runner.ts";
export {
  DEFAULT_HOOK_TIMEOUT_MS,
  HookDefinition,
  type HookEvent,
  HooksConfig,
} from "./hooks/hooks-config.ts";
export { BASE_INSTRUCTIONS, findAgentsFiles, initialContext } from "./instructions/build-instructions.ts";
export {
  type ApprovalCallback,
  builtInTools,
  type EmbeddedThreadOptions,
  type EmbeddedThreadState,
  Kiln,
  type KilnOptions,
  type ResumeOptions,
  type ThreadOptions,
} from "./kiln.ts";
export {
  McpHttpServerConfig,
  type McpServerConfig,
  McpStdioServerConfig,
  parseMcpServers,
} from "./mcp/mcp-config.ts";
export { type ConnectMcpOptions, connectMcpServers, type McpConnections } from "./mcp/mcp-connections.ts";
export {
  createMcpTool,
  type McpCallResult,
  type McpToolArgs,
  type McpToolCaller,
  type McpToolOptions,
  mcpToolName,
} from "./mcp/mcp-tool.ts";
export { ANTHROPIC_THINKING_PREFIX, createAnthropicClient } from "./model/anthropic-client.ts";
export { createChatClient } from "./model/chat-client.ts";
export { createModelClient } from "./model/create-model-client.ts";
export {
  type CatalogRow,
  describeCatalog,
  type ModelInfo,
  type ModelInfoOverrides,
  type ModelWire,
  modelInfo,
} from "./model/model-catalog.ts";
export type { ModelClient, ModelRequest, ModelStreamEvent, ToolSpec } from "./model/model-client.ts";
export { createResponsesClient } from "./model/responses-client.ts";
export { streamWithRetry } from "./model/retry.ts";
export { type ExpandedPrompt, expandPrompt, splitArguments } from "./prompts/expand-prompt.ts";
export { type CustomPrompt, listPrompts } from "./prompts/list-prompts.ts";
export { findLatestRollout, findRollout, listRollouts } from "./rollout/find-rollout.ts";
export { type RolloutState, readRollout } from "./rollout/read-rollout.ts";
export { planRollback, type RollbackPlan, rollbackWarning } from "./rollout/rollback.ts";
export type { RolloutWriter } from "./rollout/rollout-writer.ts";
export { type DiscoveredSkills, discoverSkills, type Skill } from "./skills/discover-skills.ts";
export { createLoadSkillTool } from "./skills/load-skill/load-skill.ts";
export { skillsInstructions } from "./skills/skills-instructions.ts";
export { applyPatch, parsePatch } from "./tools/apply-patch/index.ts";
export {
  createDynamicTool,
  type DynamicToolDefinition,
  defineTool,
} from "./tools/dynamic-tool/dynamic-tool.ts";
export {
  createMakePrTool,
  MAKE_PR_TOOL,
  type PullRequestDraft,
  pullRequestDraftOf,
} from "./tools/make-pr/make-pr.ts";
export type { ToolCallHooks } from "./tools/run-tool-calls.ts";
export type { ApprovalDecision, ApprovalRequest, Tool, ToolContext } from "./tools/tool.ts";
