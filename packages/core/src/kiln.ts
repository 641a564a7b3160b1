// The embedding entry point: `new Kiln()` reads the same configuration as the CLI; `startThread`,
// `resumeThread` and `resumeLatest` assemble an AgentThread (model client, sandbox, tools, rollout).
import { realpathSync } from "node:fs";
import { resolve } from "node:path";
import {
  type ApprovalPolicy,
  type CollaborationMode,
  KilnError,
  newId,
  type SandboxMode,
  type ThreadInfo,
} from "@kiln/protocol";
import { createSandboxProvider, type SandboxProvider } from "@kiln/sandbox";
import { AgentThread } from "./agent/agent-thread.ts";
import { type LoadConfigOptions, loadConfig, type ResolvedConfig } from "./config/load-config.ts";
import { BASE_INSTRUCTIONS, initialContext } from "./instructions/build-instructions.ts";
import { createModelClient } from "./model/create-model-client.ts";
import type { ModelClient } from "./model/model-client.ts";
import { findLatestRollout, findRollout } from "./rollout/find-rollout.ts";
import { readRollout } from "./rollout/read-rollout.ts";
import { createRollout, openRollout, rolloutPathFor } from "./rollout/rollout-writer.ts";
import { createApplyPatchTool } from "./tools/apply-patch/apply-patch-tool.ts";
import { createExecCommandTool } from "./tools/exec-command/exec-command.ts";
import { createWriteStdinTool } from "./tools/exec-command/write-stdin.ts";
import type { ToolSet } from "./tools/run-tool-calls.ts";
import type { ApprovalDecision, ApprovalRequest, Tool } from "./tools/tool.ts";
import { createUpdatePlanTool } from "./tools/update-plan/update-plan.ts";

/** How to find configuration (defaults: the process's environment and working directory). */
export interface KilnOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  profile?: string;
  /** `-c key=value` overrides. */
  overrides?: string[];
}

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
  onApproval?: (request: ApprovalRequest) => Promise<ApprovalDecision>;
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
    const cwd = canonicalDir(options.cwd ?? this.options.cwd ?? process.cwd());
    const config = this.config(cwd, options);
    const info: ThreadInfo = {
      id: newId("thr"),
      createdAt: Date.now(),
      cwd,
      model: config.model,
      modelProvider: config.modelProviderId,
      sandbox: config.sandboxMode,
      approvalPolicy: config.approvalPolicy,
      mode: config.mode,
      additionalDirectories: (options.additionalDirectories ?? []).map((d) => canonicalDir(resolve(cwd, d))),
    };
    const model = createModelClient(config);
    const rollout = createRollout(rolloutPathFor(config.kilnHome, info.id, info.createdAt), info);
    return this.assemble(info, config, model, {
      rollout,
      history: [],
      lastEventSeq: 0,
      unfinishedTurn: undefined,
      onApproval: options.onApproval,
    });
  }

  /** A thread continued from its rollout, by id. */
  resumeThread(threadId: string, options: Pick<ThreadOptions, "onApproval" | "model"> = {}): AgentThread {
    const home = this.config(this.options.cwd ?? process.cwd()).kilnHome;
    return this.resumeFile(findRollout(home, threadId), options);
  }

  /** The newest thread that ran in `cwd`, continued. */
  resumeLatest(cwd: string, options: Pick<ThreadOptions, "onApproval" | "model"> = {}): AgentThread {
    const dir = canonicalDir(cwd);
    const home = this.config(dir).kilnHome;
    return this.resumeFile(findLatestRollout(home, dir), options);
  }

  private resumeFile(path: string, options: Pick<ThreadOptions, "onApproval" | "model">): AgentThread {
    const state = readRollout(path);
    const info = state.info;
    const config = this.config(info.cwd, {
      model: options.model ?? info.model,
      sandbox: info.sandbox,
      approvalPolicy: info.approvalPolicy,
      mode: info.mode,
    });
    const model = createModelClient(config);
    return this.assemble(info, config, model, {
      rollout: openRollout(path, state.lastLineSeq),
      history: state.history,
      lastEventSeq: state.lastEventSeq,
      unfinishedTurn: state.unfinishedTurn,
      onApproval: options.onApproval,
    });
  }

  private assemble(
    info: ThreadInfo,
    config: ResolvedConfig,
    model: ModelClient,
    state: Pick<
      ConstructorParameters<typeof AgentThread>[0],
      "rollout" | "history" | "lastEventSeq" | "unfinishedTurn" | "onApproval"
    >,
  ): AgentThread {
    const sandbox: SandboxProvider = createSandboxProvider(info.sandbox);
    const writableRoots = [
      info.cwd,
      ...info.additionalDirectories,
      ...config.writableRoots.map((r) => resolve(info.cwd, r)),
    ];
    const networkAccess = config.networkAccess;
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
        }),
      sandbox,
      sandboxPolicy: { mode: info.sandbox, writableRoots, networkAccess },
      approvalPolicy: info.approvalPolicy,
      tools: builtInTools(),
      outputTokenLimit: config.toolOutputTokenLimit,
    });
  }
}

/** The built-in Codex-compatible tools. */
export function builtInTools(): ToolSet {
  const tools: Tool[] = [
    createExecCommandTool() as Tool,
    createWriteStdinTool() as Tool,
    createApplyPatchTool() as Tool,
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
