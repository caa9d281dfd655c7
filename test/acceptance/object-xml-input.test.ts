// Request documents of the object API: hostile XML (a DTD with entities, 50,000-deep nesting, a
// <__proto__> element) is 400 MalformedXML, never a 500, and changes nothing; character references
// are decoded, so ETags sent as &#34;…&#34; complete an upload and a key written it&#39;s.txt is deleted.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { md5Hex, ObjectClient, partBytes, xmlValue, xmlValues } from '../helpers/object-client.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const MiB = 1024 * 1024;

describe('object API request XML', { timeout: 300_000 }, () => {
  let server: TestServer;
  let client: ObjectClient;

  before(async () => {
    server = await startTestServer();
    client = new ObjectClient({
      url: server.url,
      bucket: server.bucket,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    });
  });

  after(async () => {
    await server.close();
  });

  function deleteObjects(xml: string): Promise<Response> {
    return client.request('POST', undefined, {
      query: { delete: '' },
      body: xml,
      headers: {
        'content-type': 'application/xml',
        'content-md5': createHash('md5').update(xml).digest('base64'),
      },
    });
  }

  function complete(key: string, uploadId: string, xml: string): Promise<Response> {
    return client.request('POST', key, {
      query: { uploadId },
      body: xml,
      headers: { 'content-type': 'application/xml' },
    });
  }

  async function expectMalformed(res: Response, message: RegExp): Promise<void> {
    const text = await res.text();
    assert.equal(res.status, 400, text);
    assert.equal(xmlValue(text, 'Code'), 'MalformedXML', text);
    assert.match(xmlValue(text, 'Message') ?? '', message);
  }

  async function uploadTwoParts(key: string): Promise<{ uploadId: string; etags: string[] }> {
    const uploadId = await client.initiate(key);
    const etags: string[] = [];
    for (const n of [1, 2]) {
      const body = partBytes(key, n, n === 1 ? MiB : 1000);
      const res = await client.uploadPart(key, uploadId, n, body);
      assert.equal(res.status, 200, await res.text());
      etags.push(md5Hex(body));
    }
    return { uploadId, etags };
  }

  it('a Complete with a DOCTYPE and entities is MalformedXML and the upload stays open', async () => {
    const { uploadId, etags } = await uploadTwoParts('doctype.bin');
    const xml =
      '<?xml version="1.0"?><!DOCTYPE CompleteMultipartUpload [<!ENTITY e "x"><!ENTITY f "&e;&e;&e;&e;">]>' +
      `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&f;${etags[0]}</ETag></Part></CompleteMultipartUpload>`;
    await expectMalformed(await complete('doctype.bin', uploadId, xml), /DOCTYPE/);
    assert.equal((await client.listParts('doctype.bin', uploadId)).status, 200);
    assert.equal((await client.get('doctype.bin')).status, 404);
  });

  it('a Complete nested 50,000 deep is MalformedXML', async () => {
    const { uploadId } = await uploadTwoParts('deep.bin');
    const xml = `<CompleteMultipartUpload>${'<Part>'.repeat(50_000)}${'</Part>'.repeat(50_000)}</CompleteMultipartUpload>`;
    await expectMalformed(await complete('deep.bin', uploadId, xml), /nested/);
  });

  it('a DeleteObjects with <__proto__> or <constructor> is MalformedXML and deletes nothing', async () => {
    assert.equal((await client.put('kept.txt', Buffer.from('kept'))).status, 200);
    await expectMalformed(
      await deleteObjects(
        '<Delete><__proto__><Key>kept.txt</Key></__proto__><Object><Key>kept.txt</Key></Object></Delete>',
      ),
      /__proto__/,
    );
    await expectMalformed(
      await deleteObjects(
        '<Delete><Object><constructor>x</constructor><Key>kept.txt</Key></Object></Delete>',
      ),
      /constructor/,
    );
    assert.equal((await client.get('kept.txt')).status, 200);
  });

  it('a Complete whose ETags are written &#34;…&#34; completes', async () => {
    const { uploadId, etags } = await uploadTwoParts('numeric-refs.bin');
    const xml = `<CompleteMultipartUpload>${etags
      .map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>&#34;${etag}&#x22;</ETag></Part>`)
      .join('')}</CompleteMultipartUpload>`;
    const res = await complete('numeric-refs.bin', uploadId, xml);
    assert.equal(res.status, 200, await res.text());
    const got = await client.get('numeric-refs.bin');
    assert.equal(got.status, 200);
    assert.equal(got.body.length, MiB + 1000);
  });

  it('a DeleteObjects naming it&#39;s.txt deletes the object it names', async () => {
    assert.equal((await client.put("it's.txt", Buffer.from('apostrophe'))).status, 200);
    const res = await deleteObjects('<Delete><Object><Key>it&#39;s.txt</Key></Object></Delete>');
    const text = await res.text();
    assert.equal(res.status, 200, text);
    assert.deepEqual(xmlValues(text, 'Key'), ["it's.txt"]);
    assert.equal((await client.get("it's.txt")).status, 404);
  });
});
