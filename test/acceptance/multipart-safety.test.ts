// Multipart guarantees stronger than S3's, over real HTTP: abort stops a part that is still streaming
// and leaves no bytes, Complete racing Abort has exactly one winner and no orphan blobs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { blobFiles } from '../helpers/blob-files.ts';
import { heldBody } from '../helpers/held-body.ts';
import { md5Hex, ObjectClient, partBytes, xmlValue } from '../helpers/object-client.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { WAIT_MS, waitFor, within } from '../helpers/wait.ts';

const MiB = 1024 * 1024;

describe('multipart safety', { timeout: 300_000 }, () => {
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

  it('abort while a part is streaming: 204 at once, the part fails and leaves no bytes', async () => {
    const key = 'streaming/abort.bin';
    const uploadId = await client.initiate(key);
    const first = partBytes('abort', 1, MiB);
    assert.equal((await client.uploadPart(key, uploadId, 1, first)).status, 200);

    // Half a MiB goes out, then the body holds: the part cannot end before the abort is answered.
    const body = heldBody(8 * MiB, 512 * 1024, 64 * 1024);
    const streaming = client
      .uploadPart(key, uploadId, 2, body.stream)
      .then(async (res) => ({ status: res.status, text: await res.text() }))
      .catch((err: Error) => ({ status: 0, text: err.message }));
    await body.held;

    const aborted = await within(client.abort(key, uploadId), WAIT_MS, 'abort, with a part held open');
    assert.equal(aborted.status, 204);

    // The server stops the part without waiting for the rest of its body.
    const outcome = await within(streaming, WAIT_MS, 'the held part ending');
    body.release();
    // The part request fails: NoSuchUpload, or the connection is closed under a body still sending.
    if (outcome.status !== 0) {
      assert.equal(outcome.status, 404);
      assert.equal(xmlValue(outcome.text, 'Code'), 'NoSuchUpload');
    }

    const listed = await client.listParts(key, uploadId);
    assert.equal(listed.status, 404);
    assert.equal(xmlValue(await listed.text(), 'Code'), 'NoSuchUpload');
    const late = await client.uploadPart(key, uploadId, 3, partBytes('abort', 3, 1024));
    assert.equal(late.status, 404, 'no part can be stored after abort returned');
    await waitFor(() => {
      const files = blobFiles(server.dataDir);
      return files.blobs.length === 0 && files.temporary.length === 0;
    });
  });

  it('complete racing abort: exactly one wins each time, and no blob is orphaned', async () => {
    const rounds = 12;
    let completes = 0;
    let aborts = 0;
    for (let round = 0; round < rounds; round++) {
      const key = `race/object-${round}`;
      const uploadId = await client.initiate(key);
      const parts = [partBytes(key, 1, MiB), partBytes(key, 2, 200 * 1024)];
      for (const [i, bytes] of parts.entries()) {
        assert.equal((await client.uploadPart(key, uploadId, i + 1, bytes)).status, 200);
      }
      const list = parts.map((bytes, i) => ({ n: i + 1, etag: md5Hex(bytes) }));
      const [completed, aborted] = await Promise.all([
        client.complete(key, uploadId, list),
        client.abort(key, uploadId),
      ]);
      const completeText = await completed.text();
      if (completed.status === 200) {
        completes++;
        assert.equal(aborted.status, 404, 'abort after a successful complete must fail');
        assert.equal(xmlValue(await aborted.text(), 'Code'), 'NoSuchUpload');
        const got = await client.get(key);
        assert.equal(got.status, 200);
        assert.ok(got.body.equals(Buffer.concat(parts)), 'the completed object has the parts in order');
      } else {
        aborts++;
        assert.equal(aborted.status, 204);
        assert.equal(completed.status, 404);
        assert.equal(xmlValue(completeText, 'Code'), 'NoSuchUpload');
        assert.equal((await client.get(key)).status, 404);
      }
    }
    assert.equal(completes + aborts, rounds);
    // Every blob on disk belongs to a completed object: two segments each.
    await waitFor(() => blobFiles(server.dataDir).blobs.length === completes * 2);
  });

  it('a part re-sent under the same number replaces the earlier one atomically', async () => {
    const key = 'replace/part.bin';
    const uploadId = await client.initiate(key);
    const a = partBytes('replace', 1, MiB);
    const b = partBytes('replace-again', 1, MiB);
    const [ra, rb] = await Promise.all([
      client.uploadPart(key, uploadId, 1, a),
      client.uploadPart(key, uploadId, 1, b),
    ]);
    assert.equal(ra.status, 200);
    assert.equal(rb.status, 200);
    const listed = await (await client.listParts(key, uploadId)).text();
    const etag = xmlValue(listed, 'ETag')?.replaceAll('"', '');
    assert.ok(etag === md5Hex(a) || etag === md5Hex(b), 'the stored part is one of the two, whole');
    const chosen = etag === md5Hex(a) ? a : b;
    assert.equal((await client.complete(key, uploadId, [{ n: 1, etag: etag! }])).status, 200);
    assert.ok((await client.get(key)).body.equals(chosen));
  });
});
