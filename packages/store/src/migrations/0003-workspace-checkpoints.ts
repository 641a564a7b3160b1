import type { Migration } from "./migration.ts";

// The conventions of 0001/0002. Besides:
// - Blobs are content-addressed per user (never shared across users, so one user cannot learn that
//   another holds some content); `data` is the zlib-compressed file, `size` the uncompressed size.
// - `workspace_checkpoint_blobs` lists the blobs each checkpoint references. Its foreign key to the
//   blob keeps a checkpoint from pointing at content that is not stored (or was pruned meanwhile), and
//   it makes "blobs no checkpoint references" one anti-join instead of parsing every manifest.
// - `seq` orders a thread's checkpoints: two saves in the same millisecond still have a newest.
// - A unique index on threads (id, user_id) lets a checkpoint's thread be its owner's only.

/** Workspace checkpoints of threads (for workers on node-local disks) and their content blobs. */
export const migration0003: Migration = {
  version: 3,
  name: "workspace-checkpoints",
  sqlite: `
CREATE UNIQUE INDEX threads_id_user ON threads (id, user_id);

CREATE TABLE workspace_blobs (
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  sha256 TEXT NOT NULL,
  size INTEGER NOT NULL CHECK (size >= 0),
  data BLOB NOT NULL,
  PRIMARY KEY (user_id, sha256)
) STRICT, WITHOUT ROWID;

CREATE TABLE workspace_checkpoints (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  thread_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  manifest TEXT NOT NULL,
  files INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  UNIQUE (id, user_id),
  FOREIGN KEY (thread_id, user_id) REFERENCES threads (id, user_id) ON DELETE CASCADE
) STRICT;
CREATE INDEX workspace_checkpoints_thread ON workspace_checkpoints (user_id, thread_id, seq DESC);

CREATE TABLE workspace_checkpoint_blobs (
  checkpoint_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  PRIMARY KEY (checkpoint_id, sha256),
  FOREIGN KEY (checkpoint_id, user_id) REFERENCES workspace_checkpoints (id, user_id) ON DELETE CASCADE,
  FOREIGN KEY (user_id, sha256) REFERENCES workspace_blobs (user_id, sha256)
) STRICT, WITHOUT ROWID;
CREATE INDEX workspace_checkpoint_blobs_blob ON workspace_checkpoint_blobs (user_id, sha256);
`,
  postgres: `
CREATE UNIQUE INDEX threads_id_user ON threads (id, user_id);

CREATE TABLE workspace_blobs (
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  sha256 TEXT COLLATE "C" NOT NULL,
  size BIGINT NOT NULL CHECK (size >= 0),
  data BYTEA NOT NULL,
  PRIMARY KEY (user_id, sha256)
);

CREATE TABLE workspace_checkpoints (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id TEXT COLLATE "C" NOT NULL UNIQUE,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  thread_id TEXT COLLATE "C" NOT NULL,
  created_at BIGINT NOT NULL,
  manifest TEXT NOT NULL,
  files BIGINT NOT NULL,
  bytes BIGINT NOT NULL,
  UNIQUE (id, user_id),
  FOREIGN KEY (thread_id, user_id) REFERENCES threads (id, user_id) ON DELETE CASCADE
);
CREATE INDEX workspace_checkpoints_thread ON workspace_checkpoints (user_id, thread_id, seq DESC);

CREATE TABLE workspace_checkpoint_blobs (
  checkpoint_id TEXT COLLATE "C" NOT NULL,
  user_id TEXT NOT NULL,
  sha256 TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (checkpoint_id, sha256),
  FOREIGN KEY (checkpoint_id, user_id) REFERENCES workspace_checkpoints (id, user_id) ON DELETE CASCADE,
  FOREIGN KEY (user_id, sha256) REFERENCES workspace_blobs (user_id, sha256)
);
CREATE INDEX workspace_checkpoint_blobs_blob ON workspace_checkpoint_blobs (user_id, sha256);
`,
};
