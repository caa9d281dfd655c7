// UploadService over time, on real components (test/helpers/core-services.ts) and a clock the tests move:
// abandoned tasks expire after their credentials and the grace, renew keeps a task alive, expiry racing
// confirm or renew racing cancel has one outcome, a dead confirmer's task comes back, and finished
// tasks are forgotten after their retention.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
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
import { CONFIRM_LEASE_MS } from './confirm-lease.ts';
import type { UploadFlavour, UploadTaskRecord } from './model.ts';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

const appError = (code: ErrorCode) => (err: unknown) => {
  assert.ok(isAppError(err), String(err));
  assert.equal(err.code, code, err.message);
  return true;
};

describe('UploadService: expiry and renewal', { timeout: 180_000 }, () => {
  let services: CoreServices;
  let library: LibraryRecord;
  let ctx: AccessContext;
  /** Credential lifetime and grace period of the services under test. */
  let lifetime: number;
  let grace: number;
  let n = 0;

  // Fresh services each test: expireStale sweeps every task of the store.
  beforeEach(async () => {
    services = await openCoreServices({ diskReserveMib: 0 });
    library = (await services.libraries.create({ name: 'expiry', multiTenant: false })).library;
    ctx = accessContext(library);
    lifetime = services.config.uploadCredentialSeconds * 1000;
    grace = services.config.uploadTaskGraceSeconds * 1000;
  });

  afterEach(() => services?.close());

  async function uploaded(flavour: UploadFlavour): Promise<UploadTaskRecord> {
    const outcome = await services.uploads.begin(ctx, {
      spaceId: '-',
      path: [`file-${++n}.bin`],
      flavour,
      strategy: 'rename',
      meta: {},
      attributes: {},
    });
    assert.equal(outcome.kind, 'task');
    const { task } = outcome;
    if (flavour === 'multipart') await sendPart(services, library, task, 1, Buffer.from(`part of ${n}`));
    else await sendObject(services, library, task, Buffer.from(`bytes of ${n}`));
    return task;
  }

  const confirm = (task: UploadTaskRecord) =>
    services.uploads.confirm(ctx, '-', task.confirmKey, { attributes: {} });
  const cancel = (task: UploadTaskRecord) => services.uploads.cancel(ctx, '-', task.confirmKey);
  const renew = (task: UploadTaskRecord) => services.uploads.renew(ctx, '-', task.confirmKey, {});
  const state = async (task: UploadTaskRecord) =>
    (await services.store.uploadTasks.get(task.confirmKey))?.state;
  const fileOf = (task: UploadTaskRecord) => services.store.inodes.child(library.id, '-', '', task.path[0]!);

  /** Nothing of the task is left in the object store: bytes, multipart upload, credentials. */
  async function assertReleased(task: UploadTaskRecord): Promise<void> {
    const loc = { library, key: task.objectKey };
    assert.equal(await services.objectStore.headObject(loc), undefined);
    if (task.uploadId) assert.equal(await services.objectStore.listParts(loc, task.uploadId), undefined);
    // Nothing left to delete: every credential granted for the task is gone already.
    assert.equal(await services.store.accessKeys.deleteForObject(library.bucket, task.objectKey), 0);
    if (task.uploadId) assert.equal(await services.store.accessKeys.deleteForUpload(task.uploadId), 0);
  }

  it('a task expires once its credentials are past the grace period; its bytes are released', async () => {
    const tasks = [await uploaded('multipart'), await uploaded('simple')];
    services.clock.advance(lifetime + grace - MINUTE);
    assert.equal(await services.uploads.expireStale(), 0, 'still within the grace period');
    for (const task of tasks) assert.equal(await state(task), 'uploading');
    services.clock.advance(2 * MINUTE);
    assert.equal(await services.uploads.expireStale(), 2);
    assert.equal(await services.uploads.expireStale(), 0, 'expired once');
    for (const task of tasks) {
      assert.equal(await state(task), 'expired');
      await assertReleased(task);
      await assert.rejects(
        services.uploads.status(ctx, '-', task.confirmKey, { withPartInfo: true }),
        appError('ConfirmKeyNotFound'),
      );
      await assert.rejects(confirm(task), appError('ConfirmKeyNotFound'));
      await assert.rejects(cancel(task), appError('ConfirmKeyNotFound'));
    }
  });

  it('renew gives a new credential for a whole lifetime, and the task outlives its first expiry', async () => {
    const task = await uploaded('multipart');
    // Past the first credential, within the grace: the client comes back and renews.
    services.clock.advance(lifetime + MINUTE);
    const renewed = await renew(task);
    const now = services.clock.now();
    assert.notEqual(renewed.grant.credentialId, task.credentialId);
    assert.ok(
      renewed.grant.expiresAt >= now + lifetime - MINUTE && renewed.grant.expiresAt <= now + lifetime,
    );
    const stored = await services.store.uploadTasks.get(task.confirmKey);
    assert.equal(stored?.credentialExpiresAt, renewed.grant.expiresAt);
    assert.equal(stored?.credentialId, renewed.grant.credentialId);
    // When the first credential's task would have expired, the renewed one has not.
    services.clock.advance(grace);
    assert.equal(await services.uploads.expireStale(), 0);
    assert.equal(await state(task), 'uploading');
    assert.equal((await confirm(task)).inode.objectKey, task.objectKey);
  });

  it('renew refuses a simple task, a confirmed one, and one cancelled or expired', async () => {
    await assert.rejects(renew(await uploaded('simple')), appError('NotMultipartUpload'));
    const confirmed = await uploaded('multipart');
    await confirm(confirmed);
    await assert.rejects(renew(confirmed), appError('UploadComplete'));
    const cancelled = await uploaded('multipart');
    await cancel(cancelled);
    await assert.rejects(renew(cancelled), appError('ConfirmKeyNotFound'));
    const expired = await uploaded('multipart');
    services.clock.advance(lifetime + grace + MINUTE);
    await services.uploads.expireStale();
    await assert.rejects(renew(expired), appError('ConfirmKeyNotFound'));
  });

  it('renew racing cancel: the cancel goes through, and no credential outlives the task', async (t) => {
    const outcomes = { renewed: 0, refused: 0 };
    for (let round = 0; round < 12; round++) {
      const task = await uploaded('multipart');
      // Either goes first, with a head start of 0 to 5 round trips.
      const lead = Math.floor(round / 2) % 6;
      let renewing: ReturnType<typeof renew>;
      let cancelling: ReturnType<typeof cancel>;
      if (round % 2 === 0) {
        renewing = renew(task);
        await headStart(services, lead);
        cancelling = cancel(task);
      } else {
        cancelling = cancel(task);
        await headStart(services, lead);
        renewing = renew(task);
      }
      const [r, c] = await Promise.allSettled([renewing, cancelling]);
      assert.equal(c.status, 'fulfilled', `round ${round}: the cancel`);
      if (r.status === 'fulfilled') outcomes.renewed++;
      else {
        outcomes.refused++;
        appError('ConfirmKeyNotFound')(r.reason);
      }
      assert.equal(await state(task), 'cancelled');
      await assertReleased(task);
    }
    t.diagnostic(JSON.stringify(outcomes));
    assert.ok(
      outcomes.renewed > 0 && outcomes.refused > 0,
      'both outcomes came up (else widen the head starts)',
    );
  });

  it('expiry racing confirm: the task is either confirmed or expired, never both', async (t) => {
    const outcomes = { confirmed: 0, expired: 0 };
    for (let round = 0; round < 12; round++) {
      const task = await uploaded(round % 4 < 2 ? 'multipart' : 'simple');
      services.clock.advance(lifetime + grace + MINUTE);
      const lead = Math.floor(round / 2) % 6;
      let confirming: ReturnType<typeof confirm>;
      let expiring: Promise<number>;
      if (round % 2 === 0) {
        confirming = confirm(task);
        await headStart(services, lead);
        expiring = services.uploads.expireStale();
      } else {
        expiring = services.uploads.expireStale();
        await headStart(services, lead);
        confirming = confirm(task);
      }
      const [c, e] = await Promise.allSettled([confirming, expiring]);
      assert.equal(e.status, 'fulfilled');
      if (c.status === 'fulfilled') {
        outcomes.confirmed++;
        assert.equal(e.value, 0, 'nothing expired');
        assert.equal(await state(task), 'confirmed');
        assert.deepEqual(await fileOf(task), c.value.inode);
        assert.ok(
          await services.objectStore.headObject({ library, key: task.objectKey }),
          'the file has its bytes',
        );
      } else {
        outcomes.expired++;
        appError('ConfirmKeyNotFound')(c.reason);
        assert.equal(e.value, 1);
        assert.equal(await state(task), 'expired');
        assert.equal(await fileOf(task), undefined);
        await assertReleased(task);
      }
    }
    t.diagnostic(JSON.stringify(outcomes));
    assert.ok(
      outcomes.confirmed > 0 && outcomes.expired > 0,
      'both outcomes came up (else widen the head starts)',
    );
  });

  it('a task whose confirmer died (stuck confirming) returns to uploading once its lease runs out', async () => {
    const task = await uploaded('multipart');
    const tasks = services.store.uploadTasks;
    const leaseUntil = services.clock.now() + CONFIRM_LEASE_MS;
    assert.equal(
      await tasks.transition(
        task.confirmKey,
        'uploading',
        'confirming',
        { leaseOwner: 'a-dead-node/its-run', leaseUntil },
        services.clock.now(),
      ),
      true,
    );
    services.clock.advance(CONFIRM_LEASE_MS - 1_000);
    await services.uploads.expireStale();
    assert.equal(await state(task), 'confirming', 'its lease still runs: a confirm may still be running');
    services.clock.advance(2_000);
    await services.uploads.expireStale();
    assert.equal(await state(task), 'uploading');
    assert.equal((await confirm(task)).inode.objectKey, task.objectKey);
  });

  it('finished tasks are forgotten: cancelled and expired ones after the grace, confirmed ones after a week', async () => {
    // A clock well ahead of the wall clock: every time the service records must come from its clock.
    services.clock.advance(8 * DAY);
    const [cancelled, confirmed, expired] = [
      await uploaded('simple'),
      await uploaded('simple'),
      await uploaded('multipart'),
    ];
    await cancel(cancelled);
    const file = await confirm(confirmed);
    services.clock.advance(lifetime + grace + MINUTE);
    assert.equal(await services.uploads.expireStale(), 1, 'the abandoned one expires');
    assert.equal(await state(expired), 'expired');
    assert.equal(await state(cancelled), undefined, 'cancelled: forgotten after the grace');
    assert.equal(await state(confirmed), 'confirmed');
    assert.deepEqual((await confirm(confirmed)).inode, file.inode, 'a repeated confirm still answers');
    services.clock.advance(grace + MINUTE);
    await services.uploads.expireStale();
    assert.equal(await state(expired), undefined, 'expired: forgotten after the grace');
    assert.equal(await state(confirmed), 'confirmed');
    services.clock.advance(7 * DAY);
    await services.uploads.expireStale();
    assert.equal(await state(confirmed), undefined, 'confirmed: forgotten after a week');
    await assert.rejects(confirm(confirmed), appError('ConfirmKeyNotFound'));
    assert.deepEqual(await fileOf(confirmed), file.inode, 'the file stays');
  });
});
