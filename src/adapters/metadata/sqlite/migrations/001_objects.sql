-- Installation settings, libraries, buckets, credentials, objects and multipart uploads.
-- Times are milliseconds since the epoch; JSON columns are TEXT.

CREATE TABLE settings (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE libraries (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  secret_hash TEXT NOT NULL,
  is_multi_tenant INTEGER NOT NULL,
  bucket TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE buckets (
  name TEXT PRIMARY KEY,
  library_id TEXT NOT NULL REFERENCES libraries (id),
  acl TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE access_keys (
  id TEXT PRIMARY KEY,
  secret TEXT NOT NULL,
  library_id TEXT NOT NULL,
  bucket TEXT NOT NULL,
  session_token TEXT,
  expires_at INTEGER,
  scope TEXT,
  object_key TEXT,
  upload_id TEXT,
  created_at INTEGER NOT NULL
);
CREATE INDEX access_keys_upload ON access_keys (upload_id) WHERE upload_id IS NOT NULL;
CREATE INDEX access_keys_object ON access_keys (bucket, object_key) WHERE object_key IS NOT NULL;
CREATE INDEX access_keys_expiry ON access_keys (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE objects (
  bucket TEXT NOT NULL,
  key TEXT NOT NULL,
  id TEXT NOT NULL UNIQUE,
  size INTEGER NOT NULL,
  etag TEXT NOT NULL,
  crc64 TEXT NOT NULL,
  headers TEXT NOT NULL,
  checksums TEXT NOT NULL,
  parts_count INTEGER NOT NULL,
  last_modified INTEGER NOT NULL,
  PRIMARY KEY (bucket, key)
);

CREATE TABLE object_segments (
  object_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  blob_key TEXT NOT NULL,
  size INTEGER NOT NULL,
  PRIMARY KEY (object_id, seq)
);
CREATE INDEX object_segments_blob ON object_segments (blob_key);

CREATE TABLE multipart_uploads (
  id TEXT PRIMARY KEY,
  bucket TEXT NOT NULL,
  key TEXT NOT NULL,
  state TEXT NOT NULL,
  initiated_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  owner TEXT NOT NULL,
  headers TEXT NOT NULL,
  checksum_algorithm TEXT,
  result TEXT
);
CREATE INDEX multipart_uploads_listing ON multipart_uploads (bucket, key, id) WHERE state = 'active';
CREATE INDEX multipart_uploads_age ON multipart_uploads (state, updated_at);

CREATE TABLE parts (
  upload_id TEXT NOT NULL,
  part_number INTEGER NOT NULL,
  blob_key TEXT NOT NULL,
  size INTEGER NOT NULL,
  etag TEXT NOT NULL,
  crc64 TEXT NOT NULL,
  checksums TEXT NOT NULL,
  last_modified INTEGER NOT NULL,
  PRIMARY KEY (upload_id, part_number)
);
CREATE INDEX parts_blob ON parts (blob_key);
