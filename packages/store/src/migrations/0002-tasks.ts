import type { Migration } from "./migration.ts";

// The conventions of 0001 (STRICT + INTEGER times on SQLite; BIGINT, COLLATE "C" keys and identity
// columns on PostgreSQL; booleans as nullable timestamps). Besides:
// - Case-insensitive names and searches go through `*_key` columns lower-cased by Kiln (SQLite's
//   lower() only knows ASCII), so both databases match alike.
// - Composite foreign keys `(x_id, owner)` keep a row from pointing at another owner's parent: a task
//   at another user's environment, a run at another task's attempt, a token at another user's sandbox.
// - tasks → environments has no ON DELETE action: an environment in use cannot be deleted.
// - A run's diff (it can be megabytes) has a column of its own; its other results are one JSON text.

/** Environments, tasks (attempts, user turns, runs, events), sandboxes and their tokens. */
export const migration0002: Migration = {
  version: 2,
  name: "tasks",
  sqlite: `
CREATE TABLE environments (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  name_key TEXT NOT NULL,
  repository TEXT NOT NULL,
  branch TEXT NOT NULL,
  setup_script TEXT NOT NULL,
  env TEXT NOT NULL,
  network TEXT NOT NULL CHECK (network IN ('off', 'on')),
  template TEXT,
  setup_timeout_ms INTEGER NOT NULL,
  pinned_at INTEGER,
  forge TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (user_id, name_key),
  UNIQUE (id, user_id)
) STRICT;

CREATE TABLE tasks (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  environment_id TEXT NOT NULL,
  title TEXT NOT NULL,
  title_key TEXT NOT NULL,
  branch TEXT NOT NULL,
  best_of_n INTEGER NOT NULL CHECK (best_of_n >= 1),
  status TEXT NOT NULL,
  base_commit TEXT,
  model TEXT,
  approval_policy TEXT,
  pre_apply_patch TEXT,
  prompt TEXT NOT NULL,
  prompt_key TEXT NOT NULL,
  archived_at INTEGER,
  error TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  last_seq INTEGER NOT NULL DEFAULT 0,
  FOREIGN KEY (environment_id, user_id) REFERENCES environments (id, user_id)
) STRICT;
CREATE INDEX tasks_user_created ON tasks (user_id, created_at DESC, id DESC);
CREATE INDEX tasks_environment ON tasks (environment_id, user_id);
CREATE INDEX tasks_status ON tasks (status);

CREATE TABLE attempts (
  id TEXT PRIMARY KEY,
  task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  attempt_index INTEGER NOT NULL CHECK (attempt_index >= 0),
  thread_id TEXT,
  sandbox_id TEXT,
  status TEXT NOT NULL,
  published TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (task_id, attempt_index),
  UNIQUE (id, task_id)
) STRICT;

CREATE TABLE user_turns (
  id TEXT PRIMARY KEY,
  task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  turn_index INTEGER NOT NULL CHECK (turn_index >= 0),
  input TEXT NOT NULL,
  attempt_ids TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (task_id, turn_index),
  UNIQUE (id, task_id)
) STRICT;

CREATE TABLE assistant_turns (
  id TEXT PRIMARY KEY,
  task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  attempt_id TEXT NOT NULL,
  user_turn_id TEXT NOT NULL,
  status TEXT NOT NULL,
  result TEXT NOT NULL,
  diff TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  finished_at INTEGER,
  FOREIGN KEY (attempt_id, task_id) REFERENCES attempts (id, task_id) ON DELETE CASCADE,
  FOREIGN KEY (user_turn_id, task_id) REFERENCES user_turns (id, task_id) ON DELETE CASCADE
) STRICT;
CREATE INDEX assistant_turns_task ON assistant_turns (task_id, created_at);
CREATE INDEX assistant_turns_attempt ON assistant_turns (attempt_id, task_id);
CREATE INDEX assistant_turns_user_turn ON assistant_turns (user_turn_id, task_id);

CREATE TABLE task_events (
  task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  at INTEGER NOT NULL,
  type TEXT NOT NULL,
  event TEXT NOT NULL,
  PRIMARY KEY (task_id, seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE sandboxes (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  task_id TEXT,
  attempt_id TEXT,
  thread_id TEXT,
  workspace TEXT NOT NULL,
  network TEXT NOT NULL CHECK (network IN ('off', 'on')),
  state TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  last_active_at INTEGER NOT NULL,
  UNIQUE (id, user_id)
) STRICT;
CREATE INDEX sandboxes_user_created ON sandboxes (user_id, created_at DESC, id DESC);
CREATE INDEX sandboxes_running ON sandboxes (last_active_at) WHERE state = 'running';

CREATE TABLE sandbox_tokens (
  token_hash TEXT PRIMARY KEY,
  sandbox_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  FOREIGN KEY (sandbox_id, user_id) REFERENCES sandboxes (id, user_id) ON DELETE CASCADE
) STRICT;
CREATE INDEX sandbox_tokens_sandbox ON sandbox_tokens (sandbox_id, user_id);
CREATE INDEX sandbox_tokens_expires ON sandbox_tokens (expires_at);
`,
  postgres: `
CREATE TABLE environments (
  id TEXT COLLATE "C" PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  name_key TEXT COLLATE "C" NOT NULL,
  repository TEXT NOT NULL,
  branch TEXT NOT NULL,
  setup_script TEXT NOT NULL,
  env TEXT NOT NULL,
  network TEXT NOT NULL CHECK (network IN ('off', 'on')),
  template TEXT,
  setup_timeout_ms BIGINT NOT NULL,
  pinned_at BIGINT,
  forge TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (user_id, name_key),
  UNIQUE (id, user_id)
);

CREATE TABLE tasks (
  id TEXT COLLATE "C" PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  environment_id TEXT COLLATE "C" NOT NULL,
  title TEXT NOT NULL,
  title_key TEXT NOT NULL,
  branch TEXT NOT NULL,
  best_of_n INTEGER NOT NULL CHECK (best_of_n >= 1),
  status TEXT NOT NULL,
  base_commit TEXT,
  model TEXT,
  approval_policy TEXT,
  pre_apply_patch TEXT,
  prompt TEXT NOT NULL,
  prompt_key TEXT NOT NULL,
  archived_at BIGINT,
  error TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  last_seq BIGINT NOT NULL DEFAULT 0,
  FOREIGN KEY (environment_id, user_id) REFERENCES environments (id, user_id)
);
CREATE INDEX tasks_user_created ON tasks (user_id, created_at DESC, id DESC);
CREATE INDEX tasks_environment ON tasks (environment_id, user_id);
CREATE INDEX tasks_status ON tasks (status);

CREATE TABLE attempts (
  id TEXT COLLATE "C" PRIMARY KEY,
  task_id TEXT COLLATE "C" NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  attempt_index INTEGER NOT NULL CHECK (attempt_index >= 0),
  thread_id TEXT,
  sandbox_id TEXT,
  status TEXT NOT NULL,
  published TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (task_id, attempt_index),
  UNIQUE (id, task_id)
);

CREATE TABLE user_turns (
  id TEXT COLLATE "C" PRIMARY KEY,
  task_id TEXT COLLATE "C" NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  turn_index INTEGER NOT NULL CHECK (turn_index >= 0),
  input TEXT NOT NULL,
  attempt_ids TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  UNIQUE (task_id, turn_index),
  UNIQUE (id, task_id)
);

CREATE TABLE assistant_turns (
  id TEXT COLLATE "C" PRIMARY KEY,
  task_id TEXT COLLATE "C" NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  attempt_id TEXT COLLATE "C" NOT NULL,
  user_turn_id TEXT COLLATE "C" NOT NULL,
  status TEXT NOT NULL,
  result TEXT NOT NULL,
  diff TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  finished_at BIGINT,
  FOREIGN KEY (attempt_id, task_id) REFERENCES attempts (id, task_id) ON DELETE CASCADE,
  FOREIGN KEY (user_turn_id, task_id) REFERENCES user_turns (id, task_id) ON DELETE CASCADE
);
CREATE INDEX assistant_turns_task ON assistant_turns (task_id, created_at);
CREATE INDEX assistant_turns_attempt ON assistant_turns (attempt_id, task_id);
CREATE INDEX assistant_turns_user_turn ON assistant_turns (user_turn_id, task_id);

CREATE TABLE task_events (
  task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  seq BIGINT NOT NULL,
  at BIGINT NOT NULL,
  type TEXT NOT NULL,
  event TEXT NOT NULL,
  PRIMARY KEY (task_id, seq)
);

CREATE TABLE sandboxes (
  id TEXT COLLATE "C" PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  task_id TEXT,
  attempt_id TEXT,
  thread_id TEXT,
  workspace TEXT NOT NULL,
  network TEXT NOT NULL CHECK (network IN ('off', 'on')),
  state TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  started_at BIGINT,
  last_active_at BIGINT NOT NULL,
  UNIQUE (id, user_id)
);
CREATE INDEX sandboxes_user_created ON sandboxes (user_id, created_at DESC, id DESC);
CREATE INDEX sandboxes_running ON sandboxes (last_active_at) WHERE state = 'running';

CREATE TABLE sandbox_tokens (
  token_hash TEXT PRIMARY KEY,
  sandbox_id TEXT COLLATE "C" NOT NULL,
  user_id TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  FOREIGN KEY (sandbox_id, user_id) REFERENCES sandboxes (id, user_id) ON DELETE CASCADE
);
CREATE INDEX sandbox_tokens_sandbox ON sandbox_tokens (sandbox_id, user_id);
CREATE INDEX sandbox_tokens_expires ON sandbox_tokens (expires_at);
`,
};
