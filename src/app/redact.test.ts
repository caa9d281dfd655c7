// redactSecrets: every way a credential can sit in a log line is masked; what identifies a caller
// without granting anything (key ids) and ordinary parameters stay readable.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REDACTED, redactSecrets } from './redact.ts';

describe('redactSecrets', () => {
  it('masks secret query parameters in URLs and keeps the others', () => {
    const line = JSON.stringify({
      url: '/api/v1/token?library_id=smhabc&library_secret=S3cr3t&period=60',
      next: '/api/v1/directory/smhabc/-/a?access_token=tok123&share_access_token=shr456&page=2',
    });
    const out = redactSecrets(line);
    for (const secret of ['S3cr3t', 'tok123', 'shr456']) assert.ok(!out.includes(secret), out);
    assert.match(out, /library_id=smhabc/);
    assert.match(out, /period=60/);
    assert.match(out, /page=2/);
    assert.ok(out.includes(`library_secret=${REDACTED}`));
  });

  it('masks COS and SigV4 signatures and security tokens, keeping key ids', () => {
    const cos =
      '/b-1250000000/k?q-sign-algorithm=sha1&q-ak=AKIDkeyid&q-sign-time=1%3B2&q-key-time=1%3B2&q-header-list=host&q-url-param-list=&q-signature=cafe01&x-cos-security-token=stsTOKEN';
    const v4 =
      '/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDkeyid%2F20240101%2Fr%2Fs3%2Faws4_request&X-Amz-Date=20240101T000000Z&X-Amz-SignedHeaders=host&X-Amz-Security-Token=amzTOKEN&X-Amz-Signature=beef02';
    const out = redactSecrets(JSON.stringify({ cos, v4 }));
    for (const secret of ['cafe01', 'stsTOKEN', 'amzTOKEN', 'beef02']) assert.ok(!out.includes(secret), out);
    assert.match(out, /q-ak=AKIDkeyid/);
    assert.match(out, /X-Amz-Credential=AKIDkeyid/);
    assert.match(out, /X-Amz-SignedHeaders=host/);
  });

  it('masks header members, header text and SigV4 Authorization values', () => {
    const line = JSON.stringify({
      headers: {
        authorization:
          'AWS4-HMAC-SHA256 Credential=AKID/20240101/r/s3/aws4_request, SignedHeaders=host, Signature=abc123',
        'x-auth-token': 'vodTOKEN',
        cookie: 'sid=cookieVALUE',
        'set-cookie': ['a=one', 'b=two'],
        'x-cos-security-token': 'cosTOKEN',
        host: 'example.test',
      },
      err: { message: 'upstream said no\nAuthorization: q-sign-algorithm=sha1&q-ak=AKID&q-signature=dd44' },
      text: 'AWS4-HMAC-SHA256 Credential=AKID/x, SignedHeaders=host, Signature=ee55',
    });
    const out = redactSecrets(line);
    for (const secret of ['abc123', 'vodTOKEN', 'cookieVALUE', 'one', 'two', 'cosTOKEN', 'dd44', 'ee55'])
      assert.ok(!out.includes(secret), `${secret} in ${out}`);
    assert.match(out, /"host":"example.test"/);
    assert.doesNotThrow(() => JSON.parse(out));
  });

  it('masks passwords in URLs and the token in SMH token paths', () => {
    const out = redactSecrets(
      JSON.stringify({
        msg: 'cannot connect to postgres://media:pa55word@db.internal:5432/media',
        url: '/api/v1/token/smhlib/tokenVALUE?x=1',
      }),
    );
    assert.ok(!out.includes('pa55word'), out);
    assert.ok(!out.includes('tokenVALUE'), out);
    assert.match(out, /postgres:\/\/media:\[REDACTED\]@db.internal/);
    assert.match(out, /\/api\/v1\/token\/smhlib\/\[REDACTED\]\?x=1/);
  });

  it('leaves a line without secrets as it was', () => {
    const line = JSON.stringify({
      method: 'PUT',
      url: '/b-1250000000/photos/a.jpg?partNumber=1',
      status: 200,
    });
    assert.equal(redactSecrets(line), line);
  });
});
