// `client.usage`: the caller's model usage (tokens and cost) per UTC day.
import { UsageReport as UsageReportSchema } from "@kiln/protocol";
import type { UsageReport } from "./api-types.ts";
import type { CallOptions, HttpClient } from "./http-client.ts";

/** `client.usage`. */
export class UsageApi {
  readonly #http: HttpClient;

  constructor(http: HttpClient) {
    this.#http = http;
  }

  /** The caller's usage per UTC day in `[from, to]` (`YYYY-MM-DD`; default: all), with the total. */
  get(range: { from?: string; to?: string } = {}, options: CallOptions = {}): Promise<UsageReport> {
    return this.#http.json("GET", "/usage", UsageReportSchema, { query: range, ...options });
  }
}
