// The external S3-compatible bucket of scale-out mode (`--blob s3`): the settings that reach it, the
// AWS SDK client that operates on it, and the URLs of its objects, as this node and as clients reach
// them. Stores that report CRC-64 (COS, mediahost) send it as `x-cos-hash-crc64ecma`; a middleware
// keeps that header, which the SDK would otherwise drop.
import { S3Client, type S3ServiceException } from '@aws-sdk/client-s3';
import type { Config } from '../../config/schema.ts';
import { uriEncode } from '../../lib/sigv4.ts';

export interface S3BucketSettings {
  /** Origin this node reaches the store at. */
  endpoint: string;
  /** Origin clients reach the store at. */
  publicEndpoint: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: boolean;
  checksum: 'when_required' | 'when_supported';
  prefix: string;
  grantSignature: 'sigv4' | 'cos';
}

export function s3BucketSettings(config: Config): S3BucketSettings {
  const endpoint = config.s3Endpoint || `https://s3.${config.s3Region}.amazonaws.com`;
  return {
    endpoint,
    publicEndpoint: config.s3PublicEndpoint || endpoint,
    region: config.s3Region,
    bucket: config.s3Bucket,
    accessKeyId: config.s3AccessKeyId,
    secretAccessKey: config.s3SecretAccessKey,
    forcePathStyle: config.s3ForcePathStyle,
    checksum: config.s3Checksum as S3BucketSettings['checksum'],
    prefix: config.s3Prefix,
    grantSignature: config.s3GrantSignature as S3BucketSettings['grantSignature'],
  };
}

/** How long connecting to the store, and a silence in the middle of a request, may last. */
export const CONNECT_TIMEOUT_MS = 10_000;
export const IDLE_TIMEOUT_MS = 60_000;

/** The CRC-64 a store reported in `x-cos-hash-crc64ecma`, kept on the command output. */
export const CRC64_OUTPUT = '$crc64ecma';

export function createS3Client(settings: S3BucketSettings): S3Client {
  const mode = settings.checksum === 'when_supported' ? 'WHEN_SUPPORTED' : 'WHEN_REQUIRED';
  const client = new S3Client({
    endpoint: settings.endpoint,
    region: settings.region,
    forcePathStyle: settings.forcePathStyle,
    credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
    requestChecksumCalculation: mode,
    responseChecksumValidation: mode,
    maxAttempts: 3,
    // A store that stops answering fails the call instead of holding it (and its caller) forever.
    requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS, socketTimeout: IDLE_TIMEOUT_MS },
  });
  client.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const headers = (result.response as { headers?: Record<string, string> } | undefined)?.headers;
      const crc64 = headers?.['x-cos-hash-crc64ecma'];
      if (crc64 !== undefined && typeof result.output === 'object' && result.output !== null)
        (result.output as unknown as Record<string, unknown>)[CRC64_OUTPUT] = crc64;
      return result;
    },
    { step: 'initialize', name: 'mediahostCrc64' },
  );
  return client;
}

/** Where an object of the bucket is, on the store at `endpoint`: the origin to send to and the path. */
export function objectAddress(
  settings: S3BucketSettings,
  endpoint: string,
  key: string,
): { origin: string; path: string; bucketPath: string } {
  const encodedKey = key.split('/').map(uriEncode).join('/');
  if (settings.forcePathStyle) {
    return {
      origin: endpoint,
      path: `/${settings.bucket}/${encodedKey}`,
      bucketPath: `/${settings.bucket}`,
    };
  }
  const url = new URL(endpoint);
  return {
    origin: `${url.protocol}//${settings.bucket}.${url.host}`,
    path: `/${encodedKey}`,
    bucketPath: '/',
  };
}

/** HTTP status of an S3 error, or undefined for other errors. */
export function s3Status(err: unknown): number | undefined {
  return (err as S3ServiceException | undefined)?.$metadata?.httpStatusCode;
}

/** An error of the store that means "no such key / upload" (the SDK names them differently by call). */
export function isS3NotFound(err: unknown): boolean {
  const name = (err as Error | undefined)?.name;
  return name === 'NoSuchKey' || name === 'NotFound' || name === 'NoSuchUpload' || s3Status(err) === 404;
}

/** x-amz-copy-source: the bucket and the key, each segment percent-encoded. */
export function copySourceOf(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}
