// Removes everything under one key prefix of an external bucket: its objects (DeleteObjects, a
// thousand at a time) and its unfinished multipart uploads (aborted). Used when a library is deleted.
import {
  AbortMultipartUploadCommand,
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { isS3NotFound } from './s3-bucket.ts';

export interface PurgeReport {
  objects: number;
  uploads: number;
}

export async function deleteUnderPrefix(
  client: S3Client,
  bucket: string,
  prefix: string,
): Promise<PurgeReport> {
  // An empty prefix would be the whole bucket: never what a caller means.
  if (prefix === '') throw new Error('refusing to purge an empty prefix');
  const report: PurgeReport = { objects: 0, uploads: 0 };
  let previousFirst: string | undefined;
  for (;;) {
    // Always the first page: what was deleted is gone, so the next page is the first again.
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: 1000 }),
    );
    const keys = (page.Contents ?? []).map((o) => o.Key).filter((k): k is string => k !== undefined);
    if (keys.length === 0) break;
    // A store that lists what it reported deleted would otherwise keep this loop going forever.
    if (keys[0] === previousFirst)
      throw new Error(`the object store still lists ${keys[0]} after deleting it`);
    previousFirst = keys[0];
    const out = await client.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
      }),
    );
    const failed = (out.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
    if (failed.length > 0) {
      const first = failed[0]!;
      throw new Error(
        `the object store refused to delete ${first.Key}: ${first.Code} ${first.Message ?? ''}`,
      );
    }
    report.objects += keys.length;
  }
  let keyMarker: string | undefined;
  let uploadMarker: string | undefined;
  for (;;) {
    const page = await client.send(
      new ListMultipartUploadsCommand({
        Bucket: bucket,
        Prefix: prefix,
        ...(keyMarker ? { KeyMarker: keyMarker } : {}),
        ...(uploadMarker ? { UploadIdMarker: uploadMarker } : {}),
      }),
    );
    for (const upload of page.Uploads ?? []) {
      if (!upload.Key || !upload.UploadId) continue;
      try {
        await client.send(
          new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.Key, UploadId: upload.UploadId }),
        );
        report.uploads++;
      } catch (err) {
        if (!isS3NotFound(err)) throw err;
      }
    }
    if (!page.IsTruncated) return report;
    keyMarker = page.NextKeyMarker;
    uploadMarker = page.NextUploadIdMarker;
  }
}
