// Row shapes of the SQL schema as kysely sees them (snake_case columns). Both migrations
// (sqlite/, postgres/) create exactly these tables.

export interface SettingsTable {
  name: string;
  value: string;
}

export interface LibrariesTable {
  id: string;
  name: string;
  secret_hash: string;
  is_multi_tenant: number;
  bucket: string;
  created_at: number;
}

export interface BucketsTable {
  name: string;
  library_id: string;
  acl: string;
  created_at: number;
}

export interface AccessKeysTable {
  id: string;
  secret: string;
  library_id: string;
  bucket: string;
  session_token_hash: string | null;
  expires_at: number | null;
  scope: string | null;
  upload_id: string | null;
  created_at: number;
}

export interface ObjectsTable {
  bucket: string;
  key: string;
  id: string;
  size: number;
  etag: string;
  crc64: string;
  headers: string;
  checksums: string;
  parts_count: number;
  last_modified: number;
}

export interface ObjectSegmentsTable {
  object_id: string;
  seq: number;
  blob_key: string;
  size: number;
}

export interface MultipartUploadsTable {
  id: string;
  bucket: string;
  key: string;
  state: string;
  initiated_at: number;
  updated_at: number;
  owner: string;
  headers: string;
  checksum_algorithm: string | null;
  result: string | null;
}

export interface PartsTable {
  upload_id: string;
  part_number: number;
  blob_key: string;
  size: number;
  etag: string;
  crc64: string;
  checksums: string;
  last_modified: number;
}

export interface Database {
  settings: SettingsTable;
  libraries: LibrariesTable;
  buckets: BucketsTable;
  access_keys: AccessKeysTable;
  objects: ObjectsTable;
  object_segments: ObjectSegmentsTable;
  multipart_uploads: MultipartUploadsTable;
  parts: PartsTable;
}
