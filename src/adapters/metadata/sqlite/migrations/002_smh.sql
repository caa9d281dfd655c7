-- SMH business data: spaces, quotas, access tokens, the namespace (inodes) and upload tasks.

CREATE TABLE quotas (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  library_id TEXT NOT NULL,
  capacity INTEGER NOT NULL,
  remove_when_exceed INTEGER NOT NULL,
  remove_after_days INTEGER NOT NULL,
  remove_newest INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE spaces (
  library_id TEXT NOT NULL,
  id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  extension TEXT NOT NULL,
  quota_id INTEGER,
  used_bytes INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (library_id, id)
);

INSERT INTO spaces (library_id, id, user_id, extension, quota_id, used_bytes, created_at)
  SELECT id, '-', '', '{}', NULL, 0, created_at FROM libraries WHERE is_multi_tenant = 0;

CREATE TABLE access_tokens (
  token_hash TEXT PRIMARY KEY,
  library_id TEXT NOT NULL,
  space_ids TEXT,
  user_id TEXT NOT NULL,
  client_id TEXT NOT NULL,
  session_id TEXT NOT NULL,
  grants TEXT NOT NULL,
  period INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX access_tokens_user ON access_tokens (library_id, user_id);
CREATE INDEX access_tokens_expiry ON access_tokens (expires_at);

CREATE TABLE inodes (
  id TEXT PRIMARY KEY,
  library_id TEXT NOT NULL,
  space_id TEXT NOT NULL,
  parent_id TEXT NOT NULL,
  name TEXT NOT NULL,
  type TEXT NOT NULL,
  size INTEGER NOT NULL,
  content_type TEXT,
  etag TEXT NOT NULL,
  crc64 TEXT,
  object_key TEXT,
  meta TEXT NOT NULL,
  attributes TEXT NOT NULL,
  beginning_hash TEXT,
  full_hash TEXT,
  user_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  modified_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX inodes_name ON inodes (library_id, space_id, parent_id, name);
CREATE INDEX inodes_instant ON inodes (library_id, space_id, size, beginning_hash) WHERE beginning_hash IS NOT NULL;

CREATE TABLE upload_tasks (
  confirm_key TEXT PRIMARY KEY,
  library_id TEXT NOT NULL,
  space_id TEXT NOT NULL,
  path TEXT NOT NULL,
  flavour TEXT NOT NULL,
  strategy TEXT NOT NULL,
  force INTEGER NOT NULL,
  object_key TEXT NOT NULL,
  upload_id TEXT,
  credential_id TEXT,
  state TEXT NOT NULL,
  object_ready INTEGER NOT NULL,
  credential_expires_at INTEGER NOT NULL,
  user_id TEXT NOT NULL,
  options TEXT NOT NULL,
  result TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX upload_tasks_state ON upload_tasks (state, credential_expires_at);
