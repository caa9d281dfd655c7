import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCosAuthorization, parseKeyTime } from '../../lib/cos-signature.ts';
import { cosGrant } from './cos-grants.ts';

describe('COS grants', () => {
  const base = {
    origin: 'http://127.0.0.1:8080',
    bucket: 'media-1250000000',
    key: 'lib/abc',
    objectPath: '/media-1250000000/lib/abc',
    formPath: '/',
    secretId: 'AKID',
    secretKey: 'secret',
    contentType: 'video/mp4',
  };

  it('opens the signature window a minute early and closes it at the expiry', () => {
    const now = Date.UTC(2026, 10, 21, 12, 0, 0);
    const grant = cosGrant({ ...base, flavour: 'simple', now, expiresAt: now + 3600_000 });
    const auth = parseCosAuthorization(grant.headers!.Authorization!);
    assert.ok(auth);
    assert.deepEqual(parseKeyTime(auth.keyTime), { start: now / 1000 - 60, end: now / 1000 + 3600 });
  });

  it('signed again after the expiry (a status of a lapsed task), the window is closed but well-formed', () => {
    const now = Date.UTC(2026, 10, 21, 12, 0, 0);
    for (const flavour of ['simple', 'multipart'] as const) {
      const grant = cosGrant({ ...base, flavour, uploadId: 'u1', now, expiresAt: now - 61_000 });
      const { start, end } = parseKeyTime(parseCosAuthorization(grant.headers!.Authorization!)!.keyTime);
      assert.ok(start <= end, `${flavour}: ${start};${end}`);
      assert.equal(end, Math.floor((now - 61_000) / 1000));
    }
    const form = cosGrant({ ...base, flavour: 'form', now, expiresAt: now - 61_000 });
    const { start, end } = parseKeyTime(form.form!['q-key-time']!);
    assert.ok(start <= end);
  });
});
