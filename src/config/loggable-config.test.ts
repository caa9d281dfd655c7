// The configuration as logged at start: every setting, secrets hidden (wholly, or a URL's password).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from './load.ts';
import { loggableConfig, REDACTED } from './loggable-config.ts';
import { SETTINGS, type SettingName, type SettingSpec } from './schema.ts';

const SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

describe('loggable configuration', () => {
  it('shows every setting with its effective value, and hides the secret ones', () => {
    const config = loadConfig(
      { port: '9000', blob: 's3' },
      {
        MEDIAHOST_S3_BUCKET: 'media',
        MEDIAHOST_S3_ACCESS_KEY_ID: 'AKIDEXAMPLE',
        MEDIAHOST_S3_SECRET_ACCESS_KEY: SECRET_KEY,
        MEDIAHOST_DATABASE_URL: 'postgres://mediahost:pa%40ss@db.internal:5432/mediahost?sslmode=require',
      },
    );
    const logged = loggableConfig(config);
    assert.deepEqual(Object.keys(logged).sort(), Object.keys(SETTINGS).sort());
    assert.equal(logged.port, 9000);
    assert.equal(logged.blob, 's3');
    assert.equal(logged.s3AccessKeyId, 'AKIDEXAMPLE', 'a key id is not a secret');
    assert.equal(logged.s3SecretAccessKey, REDACTED);
    assert.equal(
      logged.databaseUrl,
      `postgres://mediahost:${REDACTED}@db.internal:5432/mediahost?${REDACTED}`,
    );
    const text = JSON.stringify(logged);
    for (const secret of [SECRET_KEY, 'pa%40ss', 'pa@ss', 'sslmode'])
      assert.ok(!text.includes(secret), secret);
  });

  it('a secret that is not a service URL is hidden whole; an unset one shows as empty', () => {
    for (const databaseUrl of ['postgres://db.internal/mediahost', 'postgresql://[::1]:5433/m']) {
      assert.equal(loggableConfig({ ...loadConfig({}, {}), databaseUrl }).databaseUrl, databaseUrl);
    }
    const config = { ...loadConfig({}, {}), s3SecretAccessKey: 'x://looks-like-a-url' };
    assert.equal(loggableConfig(config).s3SecretAccessKey, REDACTED);
    assert.equal(loggableConfig(loadConfig({}, {})).s3SecretAccessKey, '');
  });

  it('every setting named like a secret is marked secret', () => {
    for (const [name, spec] of Object.entries(SETTINGS) as [SettingName, SettingSpec][]) {
      if (/secret|password|token|databaseUrl/i.test(name)) assert.equal(spec.secret, true, name);
    }
  });
});
