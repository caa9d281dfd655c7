// Settings: precedence of flags over variables over defaults, validation, and the generated docs.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CONNECTION_VARIABLES } from '../cli/connection-options.ts';
import { renderConfigurationDoc } from './docs.ts';
import { ConfigError, loadConfig } from './load.ts';
import { envName, SETTINGS, type SettingSpec } from './schema.ts';

describe('configuration', () => {
  it('defaults serve on 127.0.0.1:8080 with ./data', () => {
    const config = loadConfig({}, {});
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.port, 8080);
    assert.equal(config.dataDir, './data');
    assert.equal(config.publicUrl, '');
  });

  it('flags win over MEDIAHOST_* variables, which win over defaults', () => {
    const env = { MEDIAHOST_PORT: '9000', MEDIAHOST_HOST: '0.0.0.0', MEDIAHOST_DATA_DIR: '/srv/media' };
    const config = loadConfig({ port: '9100' }, env);
    assert.equal(config.port, 9100);
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.dataDir, '/srv/media');
  });

  it('parses booleans and lists, and normalises the public URL', () => {
    const config = loadConfig(
      {},
      {
        MEDIAHOST_COS_REQUIRE_CONSECUTIVE_PARTS: 'no',
        MEDIAHOST_VHOST_SUFFIXES: 's3.example.test, cos.example.test',
        MEDIAHOST_PUBLIC_URL: 'https://media.example.test/',
      },
    );
    assert.equal(config.cosRequireConsecutiveParts, false);
    assert.deepEqual(config.vhostSuffixes, ['s3.example.test', 'cos.example.test']);
    assert.equal(config.publicUrl, 'https://media.example.test');
  });

  it('rejects bad values with a message naming the setting', () => {
    assert.throws(
      () => loadConfig({ port: 'eighty' }, {}),
      (err: Error) => err instanceof ConfigError && /--port/.test(err.message),
    );
    assert.throws(() => loadConfig({}, { MEDIAHOST_PORT: '-1' }), /MEDIAHOST_PORT: -1 is below 0/);
    assert.throws(() => loadConfig({ logLevel: 'loud' }, {}), /--log-level: "loud" is not one of/);
    assert.throws(() => loadConfig({ publicUrl: 'ftp://x' }, {}), /only http and https/);
    assert.throws(() => loadConfig({ databaseUrl: 'mysql://x' }, {}), /only postgres/);
    // SMH SDKs renew upload credentials once less than 5 minutes remain: shorter ones loop on renew.
    assert.throws(
      () => loadConfig({ uploadCredentialSeconds: '599' }, {}),
      /--upload-credential-seconds: 599 is below 600/,
    );
    assert.equal(loadConfig({ uploadCredentialSeconds: '600' }, {}).uploadCredentialSeconds, 600);
    assert.throws(
      () => loadConfig({}, { MEDIAHOST_OUTBOUND_ALLOW: '10.0.0.0/8,10.0.0.0/99' }),
      /--outbound-allow: "10.0.0.0\/99" is neither an address, a CIDR range nor a host name/,
    );
    assert.deepEqual(loadConfig({ outboundAllow: '10.0.0.0/8, hooks.internal' }, {}).outboundAllow, [
      '10.0.0.0/8',
      'hooks.internal',
    ]);
  });

  it('--blob s3 names the settings it is missing and normalises the endpoints', () => {
    assert.throws(
      () => loadConfig({ blob: 's3' }, { MEDIAHOST_S3_BUCKET: 'media' }),
      /--blob s3 needs --s3-access-key-id \(MEDIAHOST_S3_ACCESS_KEY_ID\), --s3-secret-access-key/,
    );
    const env = {
      MEDIAHOST_BLOB: 's3',
      MEDIAHOST_S3_BUCKET: 'media',
      MEDIAHOST_S3_ACCESS_KEY_ID: 'AK',
      MEDIAHOST_S3_SECRET_ACCESS_KEY: 'SK',
    };
    assert.throws(() => loadConfig({ s3Bucket: 'No_Such' }, env), /--s3-bucket: "No_Such" is not a valid/);
    assert.throws(() => loadConfig({ s3Endpoint: 'minio:9000' }, env), /--s3-endpoint: only http and https/);
    assert.throws(() => loadConfig({ s3Endpoint: 'http://minio:9000/x' }, env), /without a path/);
    const config = loadConfig({ s3Endpoint: 'http://minio:9000/' }, env);
    assert.equal(config.s3Endpoint, 'http://minio:9000');
    assert.equal(config.s3ForcePathStyle, true);
    assert.equal(config.s3GrantSignature, 'sigv4');
    // Without --blob s3 the s3 settings are not looked at.
    assert.equal(loadConfig({ s3Endpoint: 'nonsense' }, {}).blob, 'fs');
  });

  it('refuses values out of range, empty values without a meaning, and parts that cannot fit', () => {
    assert.throws(() => loadConfig({ port: '65536' }, {}), /--port: 65536 is above 65535/);
    assert.equal(loadConfig({ port: '65535' }, {}).port, 65535);
    assert.throws(
      () => loadConfig({}, { MEDIAHOST_FS_DIRECT_IO: '' }),
      /MEDIAHOST_FS_DIRECT_IO: "" is not a boolean/,
    );
    assert.throws(() => loadConfig({ cosRequireConsecutiveParts: ' ' }, {}), /not a boolean/);
    assert.throws(() => loadConfig({}, { MEDIAHOST_DATA_DIR: '' }), /MEDIAHOST_DATA_DIR: must not be empty/);
    assert.throws(() => loadConfig({ host: '' }, {}), /--host: must not be empty/);
    assert.throws(() => loadConfig({ ffmpegPath: ' ' }, {}), /--ffmpeg-path: must not be empty/);
    assert.throws(
      () => loadConfig({ maxPartSize: String(4 * 1024 * 1024) }, {}),
      /--min-part-size-s3 \(MEDIAHOST_MIN_PART_SIZE_S3\): 5242880 is larger than --max-part-size/,
    );
    assert.equal(loadConfig({ maxPartSize: String(5 * 1024 * 1024) }, {}).maxPartSize, 5 * 1024 * 1024);
  });

  it('accepts CORS origins as browsers send them, and refuses anything else', () => {
    const origins = ['*', 'https://app.example.test', 'http://localhost:3000', 'https://*.example.test'];
    assert.deepEqual(loadConfig({ corsOrigins: origins.join(',') }, {}).corsOrigins, origins);
    assert.deepEqual(loadConfig({}, { MEDIAHOST_CORS_ORIGINS: '' }).corsOrigins, []);
    for (const bad of [
      'https://app.example.test/',
      'app.example.test',
      'ftp://x.test',
      'https://x.test/path',
    ]) {
      assert.throws(
        () => loadConfig({ corsOrigins: bad }, {}),
        (err: Error) => err instanceof ConfigError && err.message.includes(`"${bad}" is not an origin`),
        bad,
      );
    }
  });

  it('checks the S3 region with --blob s3', () => {
    const env = {
      MEDIAHOST_BLOB: 's3',
      MEDIAHOST_S3_BUCKET: 'media',
      MEDIAHOST_S3_ACCESS_KEY_ID: 'AK',
      MEDIAHOST_S3_SECRET_ACCESS_KEY: 'SK',
    };
    assert.equal(loadConfig({ s3Region: 'ap-guangzhou' }, env).s3Region, 'ap-guangzhou');
    assert.throws(
      () => loadConfig({ s3Region: 'US East' }, env),
      /--s3-region: "US East" is not a region name/,
    );
    assert.throws(() => loadConfig({ s3Region: '' }, env), /--s3-region: must not be empty/);
  });

  it('warns about variables that are no setting and about s3-* settings without --blob s3', () => {
    const warnings: string[] = [];
    const config = loadConfig(
      { s3Bucket: 'media' },
      {
        MEDIAHOST_PROT: '9000',
        MEDIAHOST_SOMETHING_ELSE: '1',
        MEDIAHOST_NO_V8_FLAGS: '1',
        MEDIAHOST_S3_REGION: 'eu-west-1',
        PATH: '/usr/bin',
      },
      (message) => warnings.push(message),
    );
    assert.equal(config.port, 8080);
    assert.deepEqual(warnings, [
      'MEDIAHOST_PROT is not a mediahost setting and is ignored (did you mean MEDIAHOST_PORT?)',
      'MEDIAHOST_SOMETHING_ELSE is not a mediahost setting and is ignored',
      '--s3-region (MEDIAHOST_S3_REGION), --s3-bucket (MEDIAHOST_S3_BUCKET) are ignored with --blob fs; add --blob s3 (MEDIAHOST_BLOB=s3) to use the store',
    ]);
    const quiet: string[] = [];
    loadConfig({}, { MEDIAHOST_PORT: '9000', MEDIAHOST_NO_V8_FLAGS: '1' }, (m) => quiet.push(m));
    assert.deepEqual(quiet, []);
  });

  it('takes the variables of the file commands for what they are, not for misspelt settings', () => {
    const warnings: string[] = [];
    const env = Object.fromEntries(Object.values(CONNECTION_VARIABLES).map((name) => [name, 'x']));
    loadConfig({}, env, (message) => warnings.push(message));
    assert.deepEqual(warnings, []);
  });

  it('every setting has a flag, a MEDIAHOST_ variable and a description', () => {
    for (const spec of Object.values(SETTINGS as Record<string, SettingSpec>)) {
      assert.match(envName(spec), /^MEDIAHOST_[A-Z0-9_]+$/);
      assert.ok(spec.description.length > 10, spec.flag);
    }
  });

  it('docs/configuration.md is the rendered settings table (run `npm run docs` after changing the schema)', () => {
    const onDisk = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'configuration.md'), 'utf8');
    assert.equal(onDisk, renderConfigurationDoc());
  });
});
