// `client.environments`: the templates tasks run in (a repository, a branch, a setup script, variables,
// secrets, a network policy), and the built-in templates.
import {
  Environment,
  EnvironmentList,
  type EnvironmentTemplate,
  EnvironmentTemplateList,
} from "@kiln/protocol";
import type { CreateEnvironmentInput, UpdateEnvironmentInput } from "./api-types.ts";
import type { CallOptions, HttpClient } from "./http-client.ts";

const enc = encodeURIComponent;

/** The environment routes. */
export class EnvironmentsApi {
  readonly #http: HttpClient;

  constructor(http: HttpClient) {
    this.#http = http;
  }

  /** Creates an environment (secrets are stored encrypted and never shown again). */
  create(request: CreateEnvironmentInput, options: CallOptions = {}): Promise<Environment> {
    return this.#http.json("POST", "/environments", Environment, { body: request, ...options });
  }

  /** The caller's environments. */
  async list(options: CallOptions = {}): Promise<Environment[]> {
    return (await this.#http.json("GET", "/environments", EnvironmentList, options)).environments;
  }

  /** One environment. */
  get(id: string, options: CallOptions = {}): Promise<Environment> {
    return this.#http.json("GET", `/environments/${enc(id)}`, Environment, options);
  }

  /** Changes an environment. */
  update(id: string, request: UpdateEnvironmentInput, options: CallOptions = {}): Promise<Environment> {
    return this.#http.json("PATCH", `/environments/${enc(id)}`, Environment, { body: request, ...options });
  }

  /** Deletes an environment. */
  delete(id: string, options: CallOptions = {}): Promise<void> {
    return this.#http.empty("DELETE", `/environments/${enc(id)}`, options);
  }

  /** The built-in templates (a setup script and network policy to start from). */
  async templates(options: CallOptions = {}): Promise<EnvironmentTemplate[]> {
    return (await this.#http.json("GET", "/environment-templates", EnvironmentTemplateList, options))
      .templates;
  }
}
