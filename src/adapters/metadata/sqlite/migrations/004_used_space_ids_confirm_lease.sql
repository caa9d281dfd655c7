-- Every tenant-space id ever created, kept after its space is deleted so that an id is never reused
-- (a token, grant or task of the deleted space can never reach a new space of that id). And the lease
-- of a confirm: which process is confirming a task and until when, so that another process can take
-- over at once when it died.

CREATE TABLE used_space_ids (
  library_id TEXT NOT NULL,
  id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  deleted_at INTEGER,
  PRIMARY KEY (library_id, id)
);

INSERT INTO used_space_ids (library_id, id, created_at, deleted_at)
  SELECT library_id, id, created_at, NULL FROM spaces;

ALTER TABLE upload_tasks ADD COLUMN lease_owner TEXT;
ALTER TABLE upload_tasks ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;
CREATE INDEX upload_tasks_space ON upload_tasks (library_id, space_id);
