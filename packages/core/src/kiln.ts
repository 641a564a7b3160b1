// The embedding entry point: `new Kiln()` reads the same configuration as the CLI; `startThread`,
// `resumeThread`, `resumeLatest` and `forkThread` assemble an AgentThread (model client, sandbox, tools,
// rollout, approvals, limits).
import { realpathSync } from "node:fs";
import { resolve } from "node:path";
import {
  type ApprovalPolicy,
  type CollaborationMode,
  type EventEnvelope,
  type HistoryItem,
  type HistoryToolCall,
  KilnError,
  newId,
  type SandboxMode,
  type ThreadInfo,
  type TurnContext,
} from "@kiln/protocol";
import { createSandboxProvider } from "@kiln/sandbox";
import type { ConnectedTools } from "./agent/agent-thread.ts";
import { AgentThread } from "./agent/agent-thread.ts";
import type { PendingApproval } from "./agent/approval-gate.ts";
import type { StepJournal } from "./agent/step-journal.ts";
import {
  type SubAgentBudget,
  type SubAgentHost,
  type SubAgentParent,
  SubAgents,
} from "./agent/sub-agents.ts";
import { type LoadConfigOptions, loadConfig, type ResolvedConfig } from "./config/load-config.ts";
import { createHookRunner } from "./hooks/hook-runner.ts";
import { BASE_INSTRUCTIONS, initialContext, repositoryRoot } from "./instructions/build-instructions.ts";
import { parseMcpServers } from "./mcp/mcp-config.ts";
import { createModelClient } from "./model/create-model-client.ts";
import { modelInfo } from "./model/model-catalog.ts";
import type { ModelClient } from "./model/model-client.ts";
import { expandPrompt } from "./prompts/expand-prompt.ts";
import { findLatestRollout, findRollout } from "./rollout/find-rollout.ts";
import { readRollout } from "./rollout/read-rollout.ts";
import { createRollout, openRollout, type RolloutWriter, rolloutPathFor } from "./rollout/rollout-writer.ts";
import { discoverSkills } from "./skills/discover-skills.ts";
import { createLoadSkillTool } from "./skills/load-skill/load-skill.ts";
import { createApplyPatchTool } from "./tools/apply-patch/apply-patch-tool.ts";
import { createDynamicTool, type DynamicToolDefinition } from "./tools/dynamic-tool/dynamic-tool.ts";
import { createExecCommandTool } from "./tools/exec-command/exec-command.ts";
import { createWriteStdinTool } from "./tools/exec-command/write-stdin.ts";
import type { ToolSet } from "./tools/run-tool-calls.ts";
import { createSubAgentTools } from "./tools/sub-agents/sub-agent-tools.ts";
import type { ApprovalDecision, Tool } from "./tools/tool.ts";
import { createUpdatePlanTool } from "./tools/update-plan/update-plan.ts";

/** How to find configuration (defaults: the process's environment and working directory). */
export interface KilnOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  profile?: string | undefined;
  /** `-c key=value` overrides. */
  overrides?: string[] | undefined;
}

/** Decides an approval request for an embedding program. */
export type ApprovalCallback = (
  request: PendingApproval,
  signal: AbortSignal,
) => Promise<ApprovalDecision> | ApprovalDecision;

/** Per-thread choices; anything left out comes from the configuration. */
export interface ThreadOptions {
  cwd?: string;
  model?: string;
  sandbox?: SandboxMode;
  approvalPolicy?: ApprovalPolicy;
  mode?: CollaborationMode;
  /** Extra writable roots. */
  additionalDirectories?: string[];
  networkAccess?: boolean;
  /** Tools of the embedding program, offered next to the built-in ones. */
  tools?: DynamicToolDefinition[];
  /** Answers approvals; without it, approvals that need a person are declined (non-interactive). */
  onApproval?: ApprovalCallback;
  /** Runs model and tool calls as journaled steps (a durable engine such as Restate). */
  journal?: StepJournal;
  /** Instructions of the embedding program, added to the developer message of the thread's context. */
  developerInstructions?: string;
}

/** Options when continuing a thread. */
export type ResumeOptions = Pick<
  ThreadOptions,
  | "onApproval"
  | "model"
  | "tools"
  | "sandbox"
  | "approvalPolicy"
  | "networkAccess"
  | "journal"
  | "developerInstructions"
>;

/** A thread's state kept by an embedder instead of a rollout file (see `Kiln.openThread`). */
export interface EmbeddedThreadState {
  /** The model's history; the thread appends to this array as the turn goes. */
  history: HistoryItem[];
  /** The seq of the thread's last event (0: none yet). */
  lastEventSeq: number;
  /** Where the thread journals its lines (an embedder may keep them in memory). */
  rollout: RolloutWriter;
  /**
   * Past events the thread rebuilds its session approval rules from (e.g. the completed `approval`
   * items answered "for the session"); absent: none.
   */
  events?: EventEnvelope[];
}

/** Options of a thread an embedder keeps (see `Kiln.openThread`). */
export interface EmbeddedThreadOptions extends ResumeOptions {
  /** Makes the thread's sub-agents (a durable engine's calls to child objects); default: in process. */
  subAgents?: (parent: SubAgentParent) => SubAgentHost;
  /** The thread's depth in its tree (0: a root; a durable child learns its depth from its parent). */
  depth?: number;
}

interface ThreadState {
  rollout: RolloutWriter;
  history: HistoryItem[];
  lastEventSeq: number;
  events: EventEnvelope[];
  unfinishedTurn: { context: TurnContext; danglingCalls: HistoryToolCall[] } | undefined;
}

/** Kiln as a library. */
export class Kiln {
  private readonly options: KilnOptions;

  constructor(options: KilnOptions = {}) {
    this.options = options;
  }

  /** The resolved configuration for a working directory (and per-thread choices). */
  config(cwd: string, thread: ThreadOptions = {}): ResolvedConfig {
    const flags: Record<string, unknown> = {
      model: thread.model,
      sandbox_mode: thread.sandbox,
      approval_policy: thread.approvalPolicy,
      mode: thread.mode,
      ...(thread.networkAccess === undefined
        ? {}
        : { sandbox_workspace_write: { network_access: thread.networkAccess } }),
    };
    const options: LoadConfigOptions = {
      cwd,
      env: this.options.env ?? process.env,
      profile: this.options.profile,
      overrides: this.options.overrides,
      flags,
    };
    return loadConfig(options);
  }

  /** A new thread (its rollout file is created at once). */
  startThread(options: ThreadOptions = {}): AgentThread {
    const info = this.newThreadInfo(options);
    const config = this.config(info.cwd, options);
    const model = createModelClient(config);
    const rollout = createRollout(rolloutPathFor(config.kilnHome, info.id, info.createdAt), info);
    return this.assemble(
      info,
      config,
      model,
      { rollout, history: [], lastEventSeq: 0, events: [], unfinishedTurn: undefined },
      options,
    );
  }

  /** The settings of a new thread (from the configuration and `options`), without creating it. */
  newThreadInfo(options: ThreadOptions & { id?: string; createdAt?: number } = {}): ThreadInfo {
    const cwd = canonicalDir(options.cwd ?? this.options.cwd ?? process.cwd());
    const config = this.config(cwd, options);
    return {
      id: options.id ?? newId("thr"),
      createdAt: options.createdAt ?? Date.now(),
      cwd,
      model: config.model,
      modelProvider: config.modelProviderId,
      sandbox: config.sandboxMode,
      approvalPolicy: config.approvalPolicy,
      mode: config.mode,
      additionalDirectories: (options.additionalDirectories ?? []).map((d) => canonicalDir(resolve(cwd, d))),
    };
  }

  /**
   * A thread whose state an embedder keeps (a durable engine keeps the history in its own store and
   * gives a `journal`): nothing is read from or written to `$KILN_HOME/sessions`.
   */
  openThread(info: ThreadInfo, state: EmbeddedThreadState, options: EmbeddedThreadOptions = {}): AgentThread {
    const config = this.config(info.cwd, {
      model: options.model ?? info.model,
      sandbox: options.sandbox ?? info.sandbox,
      approvalPolicy: options.approvalPolicy ?? info.approvalPolicy,
      mode: info.mode,
      ...(options.networkAccess === undefined ? {} : { networkAccess: options.networkAccess }),
    });
    const budget = {
      running: 0,
      maxConcurrent: config.limits.subAgentMaxConcurrent,
      maxDepth: config.limits.subAgentMaxDepth,
    };
    return this.assemble(
      info,
      config,
      createModelClient(config),
      { ...state, events: state.events ?? [], unfinishedTurn: undefined },
      options,
      {
        depth: options.depth ?? 0,
        budget,
        ...(options.subAgents === undefined ? {} : { subAgents: options.subAgents }),
      },
    );
  }

  /** A thread continued from its rollout, by id. */
  resumeThread(threadId: string, options: ResumeOptions = {}): AgentThread {
    return this.resumeFile(findRollout(this.home(), threadId), options);
  }

  /** The newest thread that ran in `cwd`, continued. */
  resumeLatest(cwd: string, options: ResumeOptions = {}): AgentThread {
    return this.resumeFile(findLatestRollout(this.home(), canonicalDir(cwd)), options);
  }

  /**
   * A new thread with the history of `threadId` up to and including its turn `atTurn` (1-based;
   * default: all of it). The original is untouched; the fork records it as its parent.
   */
  forkThread(threadId: string, options: ResumeOptions & { atTurn?: number } = {}): AgentThread {
    const atTurn = options.atTurn;
    if (atTurn !== undefined && (!Number.isInteger(atTurn) || atTurn < 1)) {
      throw new KilnError("invalid_request", `atTurn must be a whole number from 1, got ${atTurn}`, {
        details: { field: "atTurn" },
      });
    }
    const source = readRollout(
      findRollout(this.home(), threadId),
      atTurn === undefined ? {} : { upToTurn: atTurn },
    );
    if (atTurn !== undefined && source.turnCount < atTurn) {
      throw new KilnError(
        "invalid_request",
        `atTurn ${atTurn} is past the thread's last turn (${source.turnCount})`,
        {
          details: { field: "atTurn" },
        },
      );
    }
    const config = this.config(source.info.cwd, {
      model: options.model ?? source.info.model,
      sandbox: source.info.sandbox,
      approvalPolicy: source.info.approvalPolicy,
      mode: source.info.mode,
    });
    const info: ThreadInfo = {
      ...source.info,
      id: newId("thr"),
      createdAt: Date.now(),
      parentThreadId: source.info.id,
    };
    const rollout = createRollout(rolloutPathFor(config.kilnHome, info.id, info.createdAt), info);
    rollout.append("compacted", { turnId: "fork", history: source.history });
    rollout.sync();
    const history = [...source.history];
    return this.assemble(
      info,
      config,
      createModelClient(config),
      { rollout, history, lastEventSeq: 0, events: [], unfinishedTurn: undefined },
      options,
    );
  }

  private home(): string {
    return this.config(this.options.cwd ?? process.cwd()).kilnHome;
  }

  private resumeFile(path: string, options: ResumeOptions): AgentThread {
    const state = readRollout(path);
    // Settings given when resuming (`kiln exec resume -s … -a …`) win over the ones recorded.
    const info: ThreadInfo = {
      ...state.info,
      sandbox: options.sandbox ?? state.info.sandbox,
      approvalPolicy: options.approvalPolicy ?? state.info.approvalPolicy,
      mode: state.lastMode ?? state.info.mode,
    };
    const config = this.config(info.cwd, {
      model: options.model ?? info.model,
      sandbox: info.sandbox,
      approvalPolicy: info.approvalPolicy,
      mode: info.mode,
      ...(options.networkAccess === undefined ? {} : { networkAccess: options.networkAccess }),
    });
    const model = createModelClient(config);
    return this.assemble(
      info,
      config,
      model,
      {
        rollout: openRollout(path, state.lastLineSeq),
        history: state.history,
        lastEventSeq: state.lastEventSeq,
        events: state.events,
        unfinishedTurn: state.unfinishedTurn,
      },
      options,
    );
  }

  private assemble(
    info: ThreadInfo,
    config: ResolvedConfig,
    model: ModelClient,
    state: ThreadState,
    options: ResumeOptions,
    tree: {
      depth: number;
      budget: SubAgentBudget;
      mcp?: () => Promise<ConnectedTools>;
      subAgents?: (parent: SubAgentParent) => SubAgentHost;
    } = {
      depth: 0,
      budget: {
        running: 0,
        maxConcurrent: config.limits.subAgentMaxConcurrent,
        maxDepth: config.limits.subAgentMaxDepth,
      },
    },
  ): AgentThread {
    const sandbox = createSandboxProvider(info.sandbox);
    const env = this.options.env ?? process.env;
    const { skills, warnings: skillWarnings } = discoverSkills({
      kilnHome: config.kilnHome,
      repoRoot: repositoryRoot(info.cwd),
    });
    // One set of MCP connections per thread tree, opened before the first turn that needs it.
    const mcp = tree.mcp ?? memoize(() => this.connectMcp(config, info.cwd, env));
    const writableRoots = [
      info.cwd,
      ...info.additionalDirectories,
      ...config.writableRoots.map((r) => resolve(info.cwd, r)),
    ];
    const networkAccess = config.networkAccess;
    const tools = builtInTools(modelInfo(config.model).applyPatch);
    for (const definition of options.tools ?? []) {
      if (tools.has(definition.name))
        throw new KilnError("invalid_request", `tool name "${definition.name}" is taken by a built-in tool`);
      tools.set(definition.name, createDynamicTool(definition));
    }
    if (skills.length > 0) tools.set("load_skill", createLoadSkillTool(skills) as Tool);
    if (tree.depth < tree.budget.maxDepth)
      for (const tool of createSubAgentTools()) tools.set(tool.name, tool);
    const subAgents: SubAgentHost =
      tree.subAgents?.({
        info,
        depth: tree.depth,
        maxDepth: tree.budget.maxDepth,
        maxConcurrent: tree.budget.maxConcurrent,
      }) ??
      new SubAgents(
        ({ model: childModel, depth, approvalPolicy }) => {
          // A child inherits the parent's resolved configuration (never re-read from files a sandboxed
          // command could have written); only the model may differ.
          const childConfig: ResolvedConfig =
            childModel === undefined
              ? config
              : { ...config, model: childModel, price: config.prices[childModel] };
          const childInfo: ThreadInfo = {
            ...info,
            id: newId("thr"),
            createdAt: Date.now(),
            model: childConfig.model,
            mode: "code",
            approvalPolicy,
            parentThreadId: info.id,
          };
          const rollout = createRollout(
            rolloutPathFor(config.kilnHome, childInfo.id, childInfo.createdAt),
            childInfo,
          );
          return this.assemble(
            childInfo,
            childConfig,
            childModel === undefined ? model : createModelClient(childConfig),
            { rollout, history: [], lastEventSeq: 0, events: [], unfinishedTurn: undefined },
            options,
            { depth, budget: tree.budget, mcp: sharedWithoutClose(mcp) },
          );
        },
        tree.depth,
        tree.budget,
      );
    const onApproval = options.onApproval;
    return new AgentThread({
      info,
      ...state,
      model,
      modelSettings: {
        model: config.model,
        reasoningEffort: config.reasoningEffort,
        reasoningSummary: config.reasoningSummary,
      },
      retry: {
        maxRetries: config.modelProvider.stream_max_retries,
        baseDelayMs: config.modelProvider.retry_base_delay_ms,
      },
      instructions: BASE_INSTRUCTIONS,
      initialContext: () =>
        initialContext({
          cwd: info.cwd,
          kilnHome: config.kilnHome,
          sandbox: info.sandbox,
          networkAccess,
          approvalPolicy: info.approvalPolicy,
          projectDocMaxBytes: config.projectDocMaxBytes,
          skills,
          ...(options.developerInstructions === undefined
            ? {}
            : { developerInstructions: options.developerInstructions }),
        }),
      sandbox,
      sandboxPolicy: { mode: info.sandbox, writableRoots, networkAccess },
      approvalPolicy: info.approvalPolicy,
      tools,
      outputTokenLimit: config.toolOutputTokenLimit,
      approver: onApproval === undefined ? undefined : async (request, signal) => onApproval(request, signal),
      limits: config.limits,
      price: config.price,
      expandPrompt: (text) => expandPrompt(text, config.kilnHome).text,
      subAgents,
      startupWarnings: tree.depth === 0 ? [...config.warnings, ...skillWarnings] : [],
      connectTools: Object.keys(config.mcpServers).length === 0 ? undefined : () => mcp(),
      hooks: hasHooks(config) ? createHookRunner(config.hooks, { cwd: info.cwd, env }) : undefined,
      // In-process children of a journaled thread run inside its steps; a durable engine's children
      // (tree.subAgents) are threads of their own with their own journal.
      journal: tree.depth === 0 || tree.subAgents !== undefined ? options.journal : undefined,
      // Compaction aims below the input limit (a model's window includes its output budget).
      contextWindow: modelInfo(
        config.model,
        config.modelContextWindow === undefined ? {} : { contextWindow: config.modelContextWindow },
      ).maxInputTokens,
    });
  }

  /** Connects the configured MCP servers; a server that fails is a warning (reported at the first turn). */
  private async connectMcp(
    config: ResolvedConfig,
    cwd: string,
    env: Record<string, string | undefined>,
  ): Promise<ConnectedTools> {
    const warnings: string[] = [];
    // The MCP SDK is loaded only when servers are configured.
    const { connectMcpServers } = await import("./mcp/mcp-connections.ts");
    const connections = await connectMcpServers(parseMcpServers(config.mcpServers), {
      env,
      cwd,
      onWarning: (m) => warnings.push(m),
    });
    return { tools: connections.tools(), close: () => connections.close(), warnings };
  }
}

/** The same connections for a child thread, which must not close what its root owns. */
function sharedWithoutClose(connect: () => Promise<ConnectedTools>): () => Promise<ConnectedTools> {
  return () => connect().then((c) => ({ tools: c.tools, close: async () => undefined }));
}

function memoize<T>(make: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => {
    value ??= make();
    return value;
  };
}

function hasHooks(config: ResolvedConfig): boolean {
  return Object.values(config.hooks).some((list) => Array.isArray(list) && list.length > 0);
}

/** The built-in Codex-compatible tools. */
export function builtInTools(applyPatch: "freeform" | "function" = "freeform"): Map<string, Tool> {
  const tools: Tool[] = [
    createExecCommandTool() as Tool,
    createWriteStdinTool() as Tool,
    createApplyPatchTool(applyPatch) as Tool,
    createUpdatePlanTool() as Tool,
  ];
  return new Map(tools.map((t) => [t.name, t]));
}

function canonicalDir(dir: string): string {
  try {
    return realpathSync(resolve(dir));
  } catch {
    throw new KilnError("invalid_request", `working directory ${dir} does not exist`);
  }
}

export type { ToolSet };
