// Row shapes of the SQL schema as kysely sees them (snake_case columns). Both migrations
// (sqlite/, postgres/) create exactly these tables.
import type { Generated } from 'kysely';

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
  session_token: string | null;
  expires_at: number | null;
  scope: string | null;
  object_key: string | null;
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

export interface QuotasTable {
  id: Generated<number>;
  library_id: string;
  capacity: number;
  remove_when_exceed: number;
  remove_after_days: number;
  remove_newest: number;
  created_at: number;
}

export interface SpacesTable {
  library_id: string;
  id: string;
  user_id: string;
  extension: string;
  quota_id: number | null;
  used_bytes: number;
  created_at: number;
}

/** Every tenant-space id ever created; a deleted space keeps its row (deleted_at set). */
export interface UsedSpaceIdsTable {
  library_id: string;
  id: string;
  created_at: number;
  deleted_at: number | null;
}

export interface AccessTokensTable {
  token_hash: string;
  library_id: string;
  space_ids: string | null;
  user_id: string;
  client_id: string;
  session_id: string;
  grants: string;
  period: number;
  expires_at: number;
  created_at: number;
}

export interface InodesTable {
  id: string;
  library_id: string;
  space_id: string;
  parent_id: string;
  name: string;
  type: string;
  size: number;
  content_type: string | null;
  etag: string;
  crc64: string | null;
  object_key: string | null;
  meta: string;
  attributes: string;
  beginning_hash: string | null;
  full_hash: string | null;
  user_id: string;
  created_at: number;
  modified_at: number;
}

export interface UploadTasksTable {
  confirm_key: string;
  library_id: string;
  space_id: string;
  path: string;
  flavour: string;
  strategy: string;
  force: number;
  object_key: string;
  upload_id: string | null;
  credential_id: string | null;
  state: string;
  object_ready: number;
  credential_expires_at: number;
  user_id: string;
  options: string;
  result: string | null;
  created_at: number;
  updated_at: number;
  lease_owner: string | null;
  lease_until: number;
}

export interface JobsTable {
  id: string;
  kind: string;
  library_id: string;
  space_id: string | null;
  state: string;
  priority: number;
  payload: string;
  progress: number;
  attempts: number;
  max_attempts: number;
  lease_owner: string | null;
  lease_until: number | null;
  run_after: number;
  cancel_requested: number;
  asset_id: string | null;
  result: string | null;
  error_code: string | null;
  error_msg: string | null;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  updated_at: number;
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
  quotas: QuotasTable;
  spaces: SpacesTable;
  used_space_ids: UsedSpaceIdsTable;
  access_tokens: AccessTokensTable;
  inodes: InodesTable;
  upload_tasks: UploadTasksTable;
  jobs: JobsTable;
}
