// Libraries over kysely: the rows of the installation's libraries, what each one holds, and the
// deletion of a library with every row that belongs to it (the `library` commands of the CLI).
import type { BucketName, LibraryId } from '../../../core/ids.ts';
import type { LibraryContents, LibraryRecord } from '../../../core/libraries/model.ts';
import type { LibraryRepo } from '../../../ports/library-store.ts';
import type { LibrariesTable } from '../tables.ts';
import type { Db } from './kysely-db.ts';

function toLibrary(row: LibrariesTable): LibraryRecord {
  return {
    id: row.id as LibraryId,
    name: row.name,
    secretHash: row.secret_hash,
    isMultiTenant: row.is_multi_tenant === 1,
    bucket: row.bucket as BucketName,
    createdAt: Number(row.created_at),
  };
}

/** Upload task states that may still produce a file. */
const OPEN_TASK_STATES = ['uploading', 'confirming'];
/** Media task states that are not over. */
const OPEN_JOB_STATES = ['WAITING', 'PROCESSING'];

export class KyselyLibraryRepo implements LibraryRepo {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  async insert(lib: LibraryRecord): Promise<boolean> {
    const result = await this.db
      .insertInto('libraries')
      .values({
        id: lib.id,
        name: lib.name,
        secret_hash: lib.secretHash,
        is_multi_tenant: lib.isMultiTenant ? 1 : 0,
        bucket: lib.bucket,
        created_at: lib.createdAt,
      })
      .onConflict((oc) => oc.column('name').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async get(id: LibraryId): Promise<LibraryRecord | undefined> {
    const row = await this.db.selectFrom('libraries').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toLibrary(row);
  }

  async list(): Promise<LibraryRecord[]> {
    const rows = await this.db
      .selectFrom('libraries')
      .selectAll()
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toLibrary);
  }

  /** Names of the library's buckets, as a subquery. */
  #buckets(id: LibraryId) {
    return this.db.selectFrom('buckets').select('name').where('library_id', '=', id);
  }

  async contents(id: LibraryId): Promise<LibraryContents> {
    const count = <T extends { n: number | string | bigint }>(row: T | undefined): number =>
      Number(row?.n ?? 0);
    const inodes = await this.db
      .selectFrom('inodes')
      .select(['type', (eb) => eb.fn.countAll<number>().as('n')])
      .where('library_id', '=', id)
      .groupBy('type')
      .execute();
    const spaces = await this.db
      .selectFrom('spaces')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('library_id', '=', id)
      .executeTakeFirst();
    const objects = await this.db
      .selectFrom('objects')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('bucket', 'in', this.#buckets(id))
      .executeTakeFirst();
    const multipartUploads = await this.db
      .selectFrom('multipart_uploads')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('bucket', 'in', this.#buckets(id))
      .where('state', '=', 'active')
      .executeTakeFirst();
    const uploadTasks = await this.db
      .selectFrom('upload_tasks')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('library_id', '=', id)
      .where('state', 'in', OPEN_TASK_STATES)
      .executeTakeFirst();
    const mediaTasks = await this.db
      .selectFrom('jobs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('library_id', '=', id)
      .where('state', 'in', OPEN_JOB_STATES)
      .executeTakeFirst();
    return {
      spaces: count(spaces),
      files: count(inodes.find((r) => r.type === 'file')),
      directories: count(inodes.find((r) => r.type === 'dir')),
      objects: count(objects),
      multipartUploads: count(multipartUploads),
      uploadTasks: count(uploadTasks),
      mediaTasks: count(mediaTasks),
    };
  }

  async setSecretHash(id: LibraryId, secretHash: string): Promise<boolean> {
    const result = await this.db
      .updateTable('libraries')
      .set({ secret_hash: secretHash })
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async deleteWithContents(id: LibraryId): Promise<boolean> {
    const db = this.db;
    const objects = db.selectFrom('objects').select('id').where('bucket', 'in', this.#buckets(id));
    await db.deleteFrom('object_segments').where('object_id', 'in', objects).execute();
    await db.deleteFrom('objects').where('bucket', 'in', this.#buckets(id)).execute();
    const uploads = db.selectFrom('multipart_uploads').select('id').where('bucket', 'in', this.#buckets(id));
    await db.deleteFrom('parts').where('upload_id', 'in', uploads).execute();
    await db.deleteFrom('multipart_uploads').where('bucket', 'in', this.#buckets(id)).execute();
    for (const table of [
      'access_keys',
      'access_tokens',
      'inodes',
      'spaces',
      'quotas',
      'used_space_ids',
      'upload_tasks',
      'jobs',
      'buckets',
    ] as const) {
      await db.deleteFrom(table).where('library_id', '=', id).execute();
    }
    const result = await db.deleteFrom('libraries').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
