// What the task-service contract suites (tasks, environments, sandboxes, runs) share: a fixed clock
// and ways to make users, environments and tasks in the store under test.
import { randomUUID } from "node:crypto";
import { newId } from "@kiln/protocol";
import type { EnvironmentFields, KilnStore, StoredEnvironment, StoredTask, User } from "./kiln-store.ts";

/** A fixed clock: 2026-01-15T10:00:00Z. */
export const T0 = Date.UTC(2026, 0, 15, 10);

/** Makers of test data, each new and owned by a new user unless told otherwise. */
export interface TaskFixtures {
  /** The open store (valid once the suite's beforeAll ran). */
  store(): KilnStore;
  newUser(): Promise<User>;
  /** Every field of an environment, with a unique name. */
  fields(overrides?: Partial<EnvironmentFields>): EnvironmentFields;
  newEnvironment(
    userId: string,
    overrides?: Partial<EnvironmentFields>,
    now?: number,
  ): Promise<StoredEnvironment>;
  newTask(
    userId: string,
    environmentId: string,
    options?: { now?: number; title?: string; prompt?: string; bestOfN?: number; status?: string },
  ): Promise<{ task: StoredTask; attemptIds: string[] }>;
}

/** The fixtures over a store that the suite opens later. */
export function createTaskFixtures(store: () => KilnStore): TaskFixtures {
  const newUser = async (): Promise<User> => {
    const id = `usr_${randomUUID()}`;
    return store().users.create({
      id,
      username: `u-${id.slice(4, 16)}`,
      role: "user",
      passwordHash: "h",
      now: T0,
    });
  };
  const fields = (overrides: Partial<EnvironmentFields> = {}): EnvironmentFields => ({
    name: `env ${randomUUID().slice(0, 8)}`,
    repository: "https://git.example.com/acme/web.git",
    branch: "main",
    setupScript: "npm ci",
    env: { NODE_ENV: "test" },
    network: "off",
    setupTimeoutMs: 600_000,
    pinned: false,
    ...overrides,
  });
  const newEnvironment = (userId: string, overrides: Partial<EnvironmentFields> = {}, now = T0) =>
    store().environments.create({ id: `env_${randomUUID()}`, userId, now, ...fields(overrides) });
  const newTask = async (
    userId: string,
    environmentId: string,
    options: { now?: number; title?: string; prompt?: string; bestOfN?: number; status?: string } = {},
  ) => {
    const now = options.now ?? T0;
    const attemptIds = Array.from({ length: options.bestOfN ?? 1 }, () => `att_${randomUUID()}`);
    const prompt = options.prompt ?? "fix the flaky test";
    const task = await store().tasks.create({
      task: {
        id: newId("task", now),
        userId,
        environmentId,
        title: options.title ?? "Fix the flaky test",
        branch: "main",
        bestOfN: attemptIds.length,
        status: options.status ?? "queued",
        prompt,
      },
      attemptIds,
      userTurn: { id: newId("turn", now), index: 0, input: [{ type: "text", text: prompt }] },
      now,
    });
    return { task, attemptIds };
  };
  return { store, newUser, fields, newEnvironment, newTask };
}
