// UploadService on real components (in-memory SQLite, the embedded object store over a temp-dir blob
// store; test/helpers/core-services.ts): confirm against cancel and against itself has one outcome, the
// loser hears why, and a confirm refused midway hands the task back for another try.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  accessContext,
  type CoreServices,
  headStart,
  openCoreServices,
  sendObject,
  sendPart,
} from '../../../test/helpers/core-services.ts';
import { type ErrorCode, isAppError } from '../errors.ts';
import type { LibraryRecord } from '../libraries/model.ts';
import type { AccessContext } from '../tokens/access.ts';
import type { UploadFlavour, UploadTaskRecord } from './model.ts';
import type { BeginInput } from './upload-service.ts';

const appError = (code: ErrorCode) => (err: unknown) => {
  assert.ok(isAppError(err), String(err));
  assert.equal(err.code, code, err.message);
  return true;
};

describe('UploadService: confirm, cancel and reopen', { timeout: 180_000 }, () => {
  let services: CoreServices;
  let library: LibraryRecord;
  let ctx: AccessContext;
  let n = 0;

  before(async () => {
    services = await openCoreServices({ diskReserveMib: 0 });
    library = (await services.libraries.create({ name: 'uploads', multiTenant: false })).library;
    ctx = accessContext(library);
  });

  after(() => services?.close());

  async function begin(
    name: string,
    flavour: UploadFlavour = 'simple',
    input: Partial<BeginInput> = {},
  ): Promise<UploadTaskRecord> {
    const outcome = await services.uploads.begin(ctx, {
      spaceId: '-',
      path: [name],
      flavour,
      strategy: 'rename',
      meta: {},
      attributes: {},
      ...input,
    });
    assert.equal(outcome.kind, 'task');
    return outcome.task;
  }

  /** A task whose bytes are all there: one object, or two parts of a multipart upload. */
  async function uploaded(
    flavour: UploadFlavour,
    data = Buffer.from(`bytes ${++n}`),
    name = `file-${++n}.bin`,
  ): Promise<UploadTaskRecord> {
    const task = await begin(name, flavour);
    if (flavour !== 'multipart') await sendObject(services, library, task, data);
    else {
      await sendPart(services, library, task, 1, Buffer.alloc(1024 * 1024, n));
      await sendPart(services, library, task, 2, data);
    }
    return task;
  }

  const confirm = (
    task: UploadTaskRecord,
    input: { strategy?: 'ask' | 'rename' | 'overwrite'; crc64?: string } = {},
  ) => services.uploads.confirm(ctx, '-', task.confirmKey, { attributes: {}, ...input });
  const cancel = (task: UploadTaskRecord) => services.uploads.cancel(ctx, '-', task.confirmKey);
  const stored = (task: UploadTaskRecord) => services.store.uploadTasks.get(task.confirmKey);
  const fileNamed = (name: string) => services.store.inodes.child(library.id, '-', '', name);
  const objectOf = (task: UploadTaskRecord) =>
    services.objectStore.headObject({ library, key: task.objectKey });

  /** What a task leaves once cancelled: no object, no multipart upload, no credential. */
  async function assertReleased(task: UploadTaskRecord): Promise<void> {
    assert.equal(await objectOf(task), undefined, 'object deleted');
    if (task.uploadId)
      assert.equal(
        await services.objectStore.listParts({ library, key: task.objectKey }, task.uploadId),
        undefined,
      );
    if (task.credentialId)
      assert.equal(await services.store.accessKeys.get(task.credentialId as never), undefined);
  }

  it('confirm makes the file from the bytes; confirming again answers the same file', async () => {
    const data = Buffer.from('hello, confirm');
    const task = await uploaded('simple', data);
    const first = await confirm(task);
    assert.equal(first.inode.name, task.path[0]);
    assert.equal(first.inode.size, data.length);
    assert.equal(first.inode.objectKey, task.objectKey);
    assert.deepEqual(first.path, task.path);
    assert.equal(first.isOverwritten, false);
    assert.deepEqual(await fileNamed(task.path[0]!), first.inode);
    const done = await stored(task);
    assert.equal(done?.state, 'confirmed');
    assert.equal(done?.result, first.inode.id);
    const again = await confirm(task);
    assert.deepEqual(again.inode, first.inode);
    const status = await services.uploads.status(ctx, '-', task.confirmKey, { withPartInfo: true });
    assert.equal(status.task.state, 'confirmed');
    assert.deepEqual(status.path, task.path);
  });

  it('confirm racing cancel: exactly one wins each round; the loser hears UploadComplete or ConfirmKeyNotFound', async (t) => {
    const outcomes = { confirmed: 0, cancelled: 0 };
    for (let round = 0; round < 24; round++) {
      const task = await uploaded(round % 4 < 2 ? 'multipart' : 'simple');
      // Either goes first, with a head start of 0 to 5 round trips, so both outcomes come up.
      const lead = Math.floor(round / 2) % 6;
      let confirming: ReturnType<typeof confirm>;
      let cancelling: ReturnType<typeof cancel>;
      if (round % 2 === 0) {
        confirming = confirm(task);
        await headStart(services, lead);
        cancelling = cancel(task);
      } else {
        cancelling = cancel(task);
        await headStart(services, lead);
        confirming = confirm(task);
      }
      const [c, x] = await Promise.allSettled([confirming, cancelling]);
      assert.notEqual(c.status, x.status, `round ${round}: exactly one wins`);
      if (c.status === 'fulfilled') {
        outcomes.confirmed++;
        assert.ok(x.status === 'rejected' && appError('UploadComplete')(x.reason));
        assert.equal((await stored(task))?.state, 'confirmed');
        assert.deepEqual(await fileNamed(task.path[0]!), c.value.inode);
        assert.ok(await objectOf(task), 'the file keeps its bytes');
      } else {
        outcomes.cancelled++;
        assert.ok(appError('ConfirmKeyNotFound')(c.reason));
        assert.equal((await stored(task))?.state, 'cancelled');
        assert.equal(await fileNamed(task.path[0]!), undefined, 'no file');
        await assertReleased(task);
      }
    }
    t.diagnostic(JSON.stringify(outcomes));
    assert.ok(
      outcomes.confirmed > 0 && outcomes.cancelled > 0,
      'both outcomes came up (else widen the head starts)',
    );
  });

  it('confirms at once all answer the one file they made', async () => {
    for (const flavour of ['simple', 'multipart'] as const) {
      const task = await uploaded(flavour);
      const results = await Promise.all([confirm(task), confirm(task), confirm(task)]);
      for (const r of results) assert.deepEqual(r.inode, results[0]!.inode);
      assert.deepEqual(await services.store.inodes.childNames(library.id, '-', '', task.path[0]!), [
        task.path[0],
      ]);
    }
  });

  it('cancels at once: one cancels, the others hear ConfirmKeyNotFound', async () => {
    const task = await uploaded('multipart');
    const results = await Promise.allSettled([cancel(task), cancel(task), cancel(task)]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) if (r.status === 'rejected') appError('ConfirmKeyNotFound')(r.reason);
    await assertReleased(task);
  });

  it('once cancelled, the confirm key answers ConfirmKeyNotFound to status, renew, confirm and cancel', async () => {
    const task = await uploaded('multipart');
    await cancel(task);
    await assert.rejects(
      services.uploads.status(ctx, '-', task.confirmKey, { withPartInfo: false }),
      appError('ConfirmKeyNotFound'),
    );
    await assert.rejects(
      services.uploads.renew(ctx, '-', task.confirmKey, {}),
      appError('ConfirmKeyNotFound'),
    );
    await assert.rejects(confirm(task), appError('ConfirmKeyNotFound'));
    await assert.rejects(cancel(task), appError('ConfirmKeyNotFound'));
  });

  it('a confirm before the bytes arrived reopens the task; once they are there it confirms', async () => {
    const simple = await begin(`late-${++n}.txt`);
    await assert.rejects(confirm(simple), appError('UploadIncomplete'));
    assert.equal((await stored(simple))?.state, 'uploading');
    await sendObject(services, library, simple, Buffer.from('late bytes'));
    assert.equal((await confirm(simple)).inode.size, 10);

    const multipart = await begin(`gap-${++n}.bin`, 'multipart');
    await assert.rejects(confirm(multipart), appError('MultipartUploadIncomplete'), 'no part');
    await sendPart(services, library, multipart, 2, Buffer.from('second'));
    await assert.rejects(confirm(multipart), appError('MultipartUploadIncomplete'), 'part 1 missing');
    assert.equal((await stored(multipart))?.state, 'uploading');
    const status = await services.uploads.status(ctx, '-', multipart.confirmKey, { withPartInfo: false });
    assert.deepEqual(
      status.parts?.map((p) => p.partNumber),
      [2],
      'the parts stay for the client to resume',
    );
    await sendPart(services, library, multipart, 1, Buffer.alloc(1024 * 1024, 1));
    assert.equal((await confirm(multipart)).inode.size, 1024 * 1024 + 6);
  });

  it('a confirm refused for a name taken meanwhile reopens the task; another strategy then confirms', async () => {
    const task = await uploaded('multipart');
    const name = task.path[0]!;
    await confirm(await uploaded('simple', Buffer.from('rival'), name));
    await assert.rejects(confirm(task, { strategy: 'ask' }), appError('SameNameDirectoryOrFileExists'));
    assert.equal((await stored(task))?.state, 'uploading');
    const renamed = await confirm(task, { strategy: 'rename' });
    assert.equal(renamed.inode.name, name.replace('.bin', ' (1).bin'));
    assert.equal((await stored(task))?.state, 'confirmed');
  });

  it('a confirm refused for a wrong crc64 reopens the task, which then confirms or cancels cleanly', async () => {
    for (const end of ['confirm', 'cancel'] as const) {
      const task = await uploaded('multipart');
      await assert.rejects(confirm(task, { crc64: '1' }), appError('BadCrc64'));
      assert.equal((await stored(task))?.state, 'uploading');
      if (end === 'confirm') {
        const file = await confirm(task);
        assert.equal((await objectOf(task))?.crc64, file.inode.crc64);
        assert.equal((await confirm(task, { crc64: file.inode.crc64! })).inode.id, file.inode.id);
      } else {
        await cancel(task);
        await assertReleased(task);
        assert.equal(await fileNamed(task.path[0]!), undefined);
      }
    }
  });

  it('a task is found only from its own library', async () => {
    const task = await uploaded('simple');
    const other = (await services.libraries.create({ name: 'elsewhere', multiTenant: false })).library;
    const stranger = accessContext(other);
    await assert.rejects(
      services.uploads.confirm(stranger, '-', task.confirmKey, { attributes: {} }),
      appError('ConfirmKeyNotFound'),
    );
    await assert.rejects(
      services.uploads.cancel(stranger, '-', task.confirmKey),
      appError('ConfirmKeyNotFound'),
    );
    assert.equal((await stored(task))?.state, 'uploading');
  });
});
