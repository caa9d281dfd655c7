// Records and a suite loop shared by the contract suites of the SMH repositories. Every test makes its
// own names (unique()), so the tests of a suite share one store without seeing each other.
import { after, before, describe } from 'node:test';
import type { KyselyMetadataStore } from '../../src/adapters/metadata/kysely-metadata-store.ts';
import type { BucketName, LibraryId } from '../../src/core/ids.ts';
import type { LibraryRecord } from '../../src/core/libraries/model.ts';
import type { InodeRecord, InodeType } from '../../src/core/namespace/model.ts';
import type { SpaceRecord } from '../../src/core/spaces/model.ts';
import type { TokenRecord } from '../../src/core/tokens/model.ts';
import type { UploadTaskRecord } from '../../src/core/uploads/model.ts';
import { type DatabaseImplementation, databaseImplementations, type TestDatabase } from './databases.ts';

export const NOW = 1_760_000_000_000;
let counter = 0;
export const unique = (prefix: string): string =>
  `${prefix}${++counter}${Math.random().toString(36).slice(2, 8)}`;

/** What a suite's tests see: the database they run on and a store open on it. */
export interface ContractContext {
  readonly impl: DatabaseImplementation;
  readonly database: TestDatabase;
  readonly store: KyselyMetadataStore;
}

/** Declares `body` once per database, each with its own empty database and store. */
export function describeEachDatabase(title: string, body: (ctx: ContractContext) => void): void {
  for (const impl of databaseImplementations()) {
    describe(`${title}: ${impl.name}`, { skip: impl.skip, timeout: 180_000 }, () => {
      const ctx = { impl } as {
        impl: DatabaseImplementation;
        database: TestDatabase;
        store: KyselyMetadataStore;
      };
      before(async () => {
        await impl.setUp();
        ctx.database = await impl.database();
        ctx.store = await ctx.database.open();
      });
      after(async () => {
        await ctx.store?.close();
        await impl.tearDown();
      });
      body(ctx);
    });
  }
}

export function libraryRecord(overrides: Partial<LibraryRecord> = {}): LibraryRecord {
  return {
    id: unique('smh') as LibraryId,
    name: unique('library-'),
    secretHash: 'ab'.repeat(32),
    isMultiTenant: true,
    bucket: unique('bucket-') as BucketName,
    createdAt: NOW,
    ...overrides,
  };
}

export function spaceRecord(libraryId: LibraryId, overrides: Partial<SpaceRecord> = {}): SpaceRecord {
  return {
    libraryId,
    id: unique('space'),
    userId: '',
    extension: {},
    quotaId: null,
    usedBytes: 0,
    createdAt: NOW,
    ...overrides,
  };
}

export function tokenRecord(libraryId: LibraryId, overrides: Partial<TokenRecord> = {}): TokenRecord {
  return {
    hash: unique('hash'),
    libraryId,
    spaceIds: null,
    userId: 'user-1',
    clientId: 'client-1',
    sessionId: 'session-1',
    grants: ['admin'],
    period: 3600,
    expiresAt: NOW + 3_600_000,
    createdAt: NOW,
    ...overrides,
  };
}

export function inodeRecord(
  libraryId: LibraryId,
  spaceId: string,
  type: InodeType,
  name: string,
  overrides: Partial<InodeRecord> = {},
): InodeRecord {
  return {
    id: unique('inode'),
    libraryId,
    spaceId,
    parentId: '',
    name,
    type,
    size: type === 'file' ? 10 : 0,
    contentType: type === 'file' ? 'text/plain' : null,
    etag: type === 'file' ? '0123456789abcdef0123456789abcdef' : '0',
    crc64: type === 'file' ? '42' : null,
    objectKey: type === 'file' ? unique('key') : null,
    meta: {},
    attributes: {},
    beginningHash: null,
    fullHash: null,
    userId: '',
    createdAt: NOW,
    modifiedAt: NOW,
    ...overrides,
  };
}

export function uploadTaskRecord(
  libraryId: LibraryId,
  overrides: Partial<UploadTaskRecord> = {},
): UploadTaskRecord {
  return {
    confirmKey: unique('confirm'),
    libraryId,
    spaceId: '-',
    path: ['dir', 'clip.mp4'],
    flavour: 'multipart',
    strategy: 'rename',
    force: false,
    objectKey: unique('key'),
    uploadId: unique('upload'),
    credentialId: unique('AKID'),
    state: 'uploading',
    objectReady: false,
    credentialExpiresAt: NOW + 3_600_000,
    userId: 'user-1',
    options: { meta: {}, attributes: {} },
    result: null,
    leaseOwner: null,
    leaseUntil: 0,
    createdAt: NOW,
    updatedAt: NOW,
    ...overrides,
  };
}
