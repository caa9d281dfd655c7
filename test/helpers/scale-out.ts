// Scale-out deployments in tests: nodes over one PostgreSQL database and one external S3 store, the
// store being a second mediahost in embedded mode (its object endpoint is a real S3 server).
import { defaultConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { type TestServer, tempDir } from './server.ts';

/** The config of an in-process node over `db` and the store `external` (no in-process workers). */
export function scaleOutConfig(db: string, external: TestServer, overrides: Partial<Config> = {}): Config {
  return defaultConfig({
    host: '127.0.0.1',
    port: 0,
    logLevel: 'silent',
    dataDir: tempDir('mediahost-node-'),
    databaseUrl: db,
    blob: 's3',
    s3Endpoint: external.url,
    s3Bucket: external.bucket,
    s3AccessKeyId: external.accessKeyId,
    s3SecretAccessKey: external.secretAccessKey,
    workerConcurrency: 0,
    ...overrides,
  });
}

/** The same deployment as MEDIAHOST_* variables, for child processes (`mediahost worker`, `serve`). */
export function scaleOutEnv(db: string, external: TestServer): Record<string, string> {
  return {
    MEDIAHOST_DATA_DIR: tempDir('mediahost-node-'),
    MEDIAHOST_DATABASE_URL: db,
    MEDIAHOST_BLOB: 's3',
    MEDIAHOST_S3_ENDPOINT: external.url,
    MEDIAHOST_S3_BUCKET: external.bucket,
    MEDIAHOST_S3_ACCESS_KEY_ID: external.accessKeyId,
    MEDIAHOST_S3_SECRET_ACCESS_KEY: external.secretAccessKey,
  };
}
