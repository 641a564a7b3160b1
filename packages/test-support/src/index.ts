export { anthropicErrorBody } from "./anthropic-error.ts";
export {
  createFakeForge,
  type FakeForge,
  type FakeForgeOptions,
  type FakeForgeRequest,
  type FakePull,
} from "./fake-forge.ts";
export {
  type FakeModelServer,
  type FakeModelServerOptions,
  type RecordedRequest,
  startFakeModelServer,
} from "./fake-model-server.ts";
export {
  loadScenario,
  OutputSpec,
  parseScenario,
  Scenario,
  ScenarioFault,
  ScenarioStep,
  ScenarioUsage,
} from "./scenario.ts";
export { createTempGitRepo, type TempGitRepo, type TempGitRepoOptions } from "./temp-git-repo.ts";
