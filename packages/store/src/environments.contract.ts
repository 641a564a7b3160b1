// The environment repository's part of the task-service contract (run from tasks.contract.ts).
import { KilnError } from "@kiln/protocol";
import { describe, expect, it } from "vitest";
import { T0, type TaskFixtures } from "./task-fixtures.ts";

/** Defines the environment tests inside a store suite. */
export function describeEnvironmentContract({
  store,
  newUser,
  fields,
  newEnvironment,
  newTask,
}: TaskFixtures): void {
  describe("environments", () => {
    it("an environment is stored with every field and read back whole", async () => {
      const user = await newUser();
      const forge = { kind: "github" as const, apiUrl: "https://api.github.com", repo: "acme/web" };
      const env = await newEnvironment(user.id, { template: "node", pinned: true, forge, network: "on" });
      expect(env).toEqual({
        id: env.id,
        userId: user.id,
        ...fields({ name: env.name, template: "node", pinned: true, forge, network: "on" }),
        createdAt: T0,
        updatedAt: T0,
        taskCount: 0,
      });
      expect(await store().environments.get(user.id, env.id)).toEqual(env);
    });

    it("environments are listed pinned first, then by name ignoring case", async () => {
      const user = await newUser();
      const names = ["beta", "Alpha", "gamma", "Delta"];
      for (const name of names) await newEnvironment(user.id, { name, pinned: name === "gamma" });
      const listed = await store().environments.list(user.id);
      expect(listed.map((e) => e.name)).toEqual(["gamma", "Alpha", "beta", "Delta"]);
    });

    it("a name the user already has, in any case, is a conflict naming it; another user may use it", async () => {
      const user = await newUser();
      const web = await newEnvironment(user.id, { name: "Wëb App" });
      const other = await newEnvironment(user.id, { name: "api" });
      const error = await newEnvironment(user.id, { name: "wËB APP" }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KilnError);
      expect((error as KilnError).toInfo()).toEqual({
        code: "conflict",
        message: 'you already have an environment named "wËB APP": choose another name',
        retryable: false,
        details: { field: "name" },
      });
      await expect(
        store().environments.update(user.id, other.id, { name: "WËB app" }, T0 + 1),
      ).rejects.toThrow('you already have an environment named "WËB app": choose another name');
      expect((await newEnvironment((await newUser()).id, { name: "Wëb App" })).name).toBe("Wëb App");
      // Its own name in another case is not taken.
      expect(await store().environments.update(user.id, web.id, { name: "WËB APP" }, T0 + 1)).toMatchObject({
        name: "WËB APP",
      });
      await expect(
        store().environments.create({ id: web.id, userId: user.id, now: T0, ...fields() }),
      ).rejects.toThrow(`an environment ${web.id} already exists`);
    });

    it("an update changes only the given fields; forge null removes the forge", async () => {
      const user = await newUser();
      const forge = { kind: "gitlab" as const, apiUrl: "https://gitlab.example.com/api/v4", repo: "g/p" };
      const env = await newEnvironment(user.id, { forge, template: "python" });
      const updated = await store().environments.update(
        user.id,
        env.id,
        { branch: "develop", env: { A: "1" }, pinned: true, setupTimeoutMs: 5000 },
        T0 + 1,
      );
      expect(updated).toEqual({
        ...env,
        branch: "develop",
        env: { A: "1" },
        pinned: true,
        setupTimeoutMs: 5000,
        updatedAt: T0 + 1,
      });
      const { forge: _removed, ...withoutForge } = updated!;
      expect(
        await store().environments.update(user.id, env.id, { forge: null, pinned: false }, T0 + 2),
      ).toEqual({
        ...withoutForge,
        pinned: false,
        updatedAt: T0 + 2,
      });
      expect(await store().environments.update(user.id, "env_missing", { branch: "x" }, T0)).toBeUndefined();
    });

    it("taskCount counts the tasks using it, archived ones too, and an environment in use cannot be deleted", async () => {
      const user = await newUser();
      const used = await newEnvironment(user.id, { name: "used" });
      const unused = await newEnvironment(user.id);
      const { task } = await newTask(user.id, used.id);
      await newTask(user.id, used.id);
      await store().tasks.setArchived(user.id, task.id, true, T0 + 1);
      expect((await store().environments.get(user.id, used.id))?.taskCount).toBe(2);
      expect((await store().environments.list(user.id)).map((e) => [e.id, e.taskCount])).toEqual([
        [unused.id, 0],
        [used.id, 2],
      ]);

      const error = await store()
        .environments.delete(user.id, used.id)
        .catch((e: unknown) => e);
      expect((error as KilnError).toInfo()).toEqual({
        code: "conflict",
        message: 'the environment "used" is used by 2 tasks: delete its tasks first',
        retryable: false,
        details: { taskCount: 2 },
      });
      expect(await store().environments.delete(user.id, unused.id)).toBe(true);
      expect(await store().environments.get(user.id, unused.id)).toBeUndefined();
      expect(await store().environments.delete(user.id, unused.id)).toBe(false);
    });

    it("another user can neither see, list, change, delete nor start a task in an environment", async () => {
      const owner = await newUser();
      const intruder = await newUser();
      const env = await newEnvironment(owner.id);
      expect(await store().environments.get(intruder.id, env.id)).toBeUndefined();
      expect(await store().environments.list(intruder.id)).toEqual([]);
      expect(
        await store().environments.update(intruder.id, env.id, { name: "mine" }, T0 + 1),
      ).toBeUndefined();
      expect(await store().environments.delete(intruder.id, env.id)).toBe(false);
      await expect(newTask(intruder.id, env.id)).rejects.toMatchObject({
        code: "not_found",
        message: `no environment ${env.id} of user ${intruder.id} to run the task in`,
      });
      expect(await store().environments.get(owner.id, env.id)).toEqual(env);
    });
  });
}
