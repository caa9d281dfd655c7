-- The job queue: media tasks (edit, transcode, snapshot) and their completion callbacks. A row is
-- claimed with a lease that its worker renews; an expired lease returns the job to WAITING.

CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  library_id TEXT NOT NULL,
  space_id TEXT,
  state TEXT NOT NULL,
  priority INTEGER NOT NULL,
  payload TEXT NOT NULL,
  progress INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  max_attempts INTEGER NOT NULL,
  lease_owner TEXT,
  lease_until INTEGER,
  run_after INTEGER NOT NULL,
  cancel_requested INTEGER NOT NULL,
  asset_id TEXT,
  result TEXT,
  error_code TEXT,
  error_msg TEXT,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  ended_at INTEGER,
  updated_at INTEGER NOT NULL
);
CREATE INDEX jobs_claim ON jobs (state, priority, created_at);
CREATE INDEX jobs_listing ON jobs (library_id, kind, created_at);
CREATE INDEX jobs_lease ON jobs (state, lease_until);
CREATE INDEX jobs_asset ON jobs (library_id, asset_id);
