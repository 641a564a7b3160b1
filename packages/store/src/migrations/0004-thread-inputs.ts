import type { Migration } from "./migration.ts";

// The conventions of 0001–0003. Input sent to a running turn that another process runs (steering a
// durable thread from an API node): the worker running the turn takes it inside the turn's steps,
// marking each row with the step's key, so a step retried after a crash takes the same rows again.
// Rows a turn never took stay, marked by nothing: its end reports them.

/** Steering input for turns running on durable workers. */
export const migration0004: Migration = {
  version: 4,
  name: "thread-inputs",
  sqlite: `
CREATE TABLE thread_inputs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id TEXT NOT NULL,
  thread_id TEXT NOT NULL,
  turn_id TEXT NOT NULL,
  input TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  taken_key TEXT,
  FOREIGN KEY (thread_id, user_id) REFERENCES threads (id, user_id) ON DELETE CASCADE
) STRICT;
CREATE INDEX thread_inputs_turn ON thread_inputs (turn_id, taken_key, seq);
`,
  postgres: `
CREATE TABLE thread_inputs (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id TEXT NOT NULL,
  thread_id TEXT COLLATE "C" NOT NULL,
  turn_id TEXT COLLATE "C" NOT NULL,
  input TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  taken_key TEXT COLLATE "C",
  FOREIGN KEY (thread_id, user_id) REFERENCES threads (id, user_id) ON DELETE CASCADE
);
CREATE INDEX thread_inputs_turn ON thread_inputs (turn_id, taken_key, seq);
`,
};
