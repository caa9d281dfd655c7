// The orphan sweep deletes a blob only when two passes found it unreferenced: a blob whose row commits
// between the passes (a write that had just finished when the first pass looked) is kept.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BlobKey } from '../../src/core/ids.ts';
import { startTestServer, type TestClock, type TestServer, testClock } from '../helpers/server.ts';

async function* bytes(text: string): AsyncGenerator<Uint8Array> {
  yield Buffer.from(text);
}

describe('orphan sweep', { timeout: 240_000 }, () => {
  let server: TestServer;
  let clock: TestClock;

  before(async () => {
    clock = testClock();
    server = await startTestServer({ orphanGraceSeconds: 60, sweepIntervalSeconds: 3600 }, { clock });
  });

  after(async () => {
    await server?.close();
  });

  it('needs two passes to delete, and spares a blob referenced in between', async () => {
    const { blobs, sweeper, objects } = server.server.container;
    const orphan = await blobs.write(bytes('nobody points here'));
    const late = await blobs.write(bytes('a row is about to point here'));
    clock.advance(120_000); // both are now older than the grace period
    const present = async (key: BlobKey) => (await blobs.size(key)) !== undefined;

    await sweeper.sweep();
    assert.equal(await present(orphan.key), true, 'one pass only marks it');
    assert.equal(await present(late.key), true);

    // The write behind `late` commits its row now: an object whose segment is that blob.
    await objects.putObject({
      bucket: server.bucket as never,
      key: 'late.txt',
      dialect: 'cos',
      body: bytes('x'),
      declaredLength: 1,
      headers: { contentType: 'text/plain', storageClass: 'STANDARD', meta: {} },
      expect: {},
    });
    const object = await server.server.container.store.objects.get(server.bucket as never, 'late.txt');
    assert.ok(object);
    const [segment] = await server.server.container.store.objects.segments(object.id);
    // Point the object at `late` as the interrupted write would have (its own blob becomes the orphan).
    await server.server.container.store.transaction(async (tx) => {
      await tx.objects.put({ ...object, size: late.size }, [{ blobKey: late.key, size: late.size }]);
    });

    const second = await sweeper.sweep();
    assert.equal(await present(orphan.key), false, 'the second pass deletes it');
    assert.equal(await present(late.key), true, 'referenced by then: kept');
    assert.ok(second.orphanBlobs >= 1);
    // The blob the object pointed to before became an orphan before the second pass, which only
    // marked it; the third deletes it.
    assert.equal(await present(segment!.blobKey), true);
    await sweeper.sweep();
    assert.equal(await present(segment!.blobKey), false);
  });
});
