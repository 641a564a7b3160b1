// `client.approvals`: the caller's pending approvals (across their threads), and decisions on them.
import {
  type ApprovalDecisionInput,
  ApprovalResponded as ApprovalRespondedSchema,
  PendingApprovalList,
  type PendingApprovalResource,
} from "@kiln/protocol";
import type { ApprovalResponded } from "./api-types.ts";
import type { CallOptions, HttpClient } from "./http-client.ts";

/** `client.approvals`: what the agent asks permission for under an untrusted policy. */
export class ApprovalsApi {
  readonly #http: HttpClient;

  constructor(http: HttpClient) {
    this.#http = http;
  }

  /** The caller's pending approvals (of one thread, with `threadId`). */
  async list(
    filter: { threadId?: string } = {},
    options: CallOptions = {},
  ): Promise<PendingApprovalResource[]> {
    const { approvals } = await this.#http.json("GET", "/approvals", PendingApprovalList, options);
    return filter.threadId === undefined
      ? approvals
      : approvals.filter((a) => a.threadId === filter.threadId);
  }

  /** Answers a pending approval; the turn goes on. */
  respond(
    id: string,
    decision: ApprovalDecisionInput,
    options: CallOptions = {},
  ): Promise<ApprovalResponded> {
    return this.#http.json("POST", `/approvals/${encodeURIComponent(id)}`, ApprovalRespondedSchema, {
      body: { decision },
      ...options,
    });
  }
}
