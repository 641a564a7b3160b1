// GET /prompts: the server's saved prompts (`$KILN_HOME/prompts/*.md`), which a user invokes by
// starting a prompt with `/NAME args…` (the agent thread expands it). Names and descriptions only.
import { listPrompts } from "@kiln/core";
import type { SavedPromptList } from "@kiln/protocol";
import { Hono } from "hono";
import type { AppEnv } from "../auth/index.ts";

/** The prompts route (mount at `/api/v1`, behind requireUser). */
export function promptRoutes(kilnHome: string | undefined): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get("/prompts", (c) => {
    const prompts = kilnHome === undefined ? [] : listPrompts(kilnHome);
    const answer: SavedPromptList = {
      prompts: prompts.map((p) => ({
        name: p.name,
        ...(p.description === undefined ? {} : { description: p.description }),
        ...(p.argumentHint === undefined ? {} : { argumentHint: p.argumentHint }),
      })),
    };
    return c.json(answer);
  });
  return app;
}
