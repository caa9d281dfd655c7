// Scale-out mode's external bucket as the container needs it: the blob store behind the object
// endpoint and the object store of SMH files, over one client. Imported only with `--blob s3`, so the
// embedded default does not load the AWS SDK.
import type { Config } from '../../config/schema.ts';
import type { Clock } from '../../ports/clock.ts';
import { S3BlobStore } from '../blob/s3-blob-store.ts';
import { S3ObjectStore } from '../object-store/s3-object-store.ts';
import { createS3Client, s3BucketSettings } from './s3-bucket.ts';
import { S3DeploymentMarker } from './s3-deployment-marker.ts';

export interface S3Bucket {
  blobs: S3BlobStore;
  objects: S3ObjectStore;
  marker: S3DeploymentMarker;
  close(): void;
}

export function openS3Bucket(config: Config, clock: Clock): S3Bucket {
  const settings = s3BucketSettings(config);
  const client = createS3Client(settings);
  const objects = new S3ObjectStore({ settings, client, clock });
  return {
    blobs: new S3BlobStore(settings, client),
    objects,
    marker: new S3DeploymentMarker(settings, client),
    close() {
      objects.close();
      client.destroy();
    },
  };
}
