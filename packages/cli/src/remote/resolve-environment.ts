// `--env ENV` takes an environment's id (`env_…`) or its name: a name is looked up among the caller's
// environments (exactly, then ignoring case), and an unknown one lists the names there are.
import { EnvironmentId, KilnError } from "@kiln/protocol";
import type { KilnClient } from "@kiln/sdk";

/** The id of the environment `idOrName`; `not_found` naming the caller's environments when there is none. */
export async function resolveEnvironmentId(
  client: KilnClient,
  idOrName: string,
  options: { signal?: AbortSignal } = {},
): Promise<string> {
  if (EnvironmentId.safeParse(idOrName).success) return idOrName;
  const environments = await client.environments.list(options);
  const exact = environments.filter((e) => e.name === idOrName);
  const found =
    exact.length > 0 ? exact : environments.filter((e) => e.name.toLowerCase() === idOrName.toLowerCase());
  if (found.length === 1) return (found[0] as { id: string }).id;
  if (found.length > 1) {
    throw new KilnError(
      "conflict",
      `${found.length} environments are named "${idOrName}": give the id (${found.map((e) => e.id).join(", ")})`,
    );
  }
  const names = environments.map((e) => e.name).join(", ");
  throw new KilnError(
    "not_found",
    environments.length === 0
      ? `no environment "${idOrName}": you have none yet; create one on the server first`
      : `no environment "${idOrName}": yours are ${names}`,
  );
}
