-- The job queue: media tasks (edit, transcode, snapshot) and their completion callbacks. A row is
-- claimed with a lease that its worker renews; an expired lease returns the job to WAITING.

CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  library_id TEXT NOT NULL,
  space_id TEXT,
  state TEXT NOT NULL,
  priority BIGINT NOT NULL,
  payload TEXT NOT NULL,
  progress BIGINT NOT NULL,
  attempts BIGINT NOT NULL,
  max_attempts BIGINT NOT NULL,
  lease_owner TEXT,
  lease_until BIGINT,
  run_after BIGINT NOT NULL,
  cancel_requested BIGINT NOT NULL,
  asset_id TEXT,
  result TEXT,
  error_code TEXT,
  error_msg TEXT,
  created_at BIGINT NOT NULL,
  started_at BIGINT,
  ended_at BIGINT,
  updated_at BIGINT NOT NULL
);
CREATE INDEX jobs_claim ON jobs (state, priority, created_at);
CREATE INDEX jobs_listing ON jobs (library_id, kind, created_at);
CREATE INDEX jobs_lease ON jobs (state, lease_until);
CREATE INDEX jobs_asset ON jobs (library_id, asset_id);
