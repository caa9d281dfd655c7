// The deployment marker of the external bucket: the object PREFIX + `.mediahost-deployment`, beside
// `files/` and `blobs/`, which are all mediahost writes there.
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { type DeploymentMarker, MARKER_NAME } from '../../ports/deployment-marker.ts';
import { isS3NotFound, type S3BucketSettings } from './s3-bucket.ts';

const sendOptions = (options: { signal?: AbortSignal }) =>
  options.signal ? { abortSignal: options.signal } : {};

export class S3DeploymentMarker implements DeploymentMarker {
  readonly location: string;
  readonly settings = '--s3-bucket, --s3-prefix';
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;

  constructor(settings: Pick<S3BucketSettings, 'bucket' | 'prefix' | 'endpoint'>, client: S3Client) {
    this.#client = client;
    this.#bucket = settings.bucket;
    this.#prefix = settings.prefix;
    this.location = `s3://${settings.bucket}/${settings.prefix} at ${settings.endpoint}`;
  }

  get #key(): string {
    return `${this.#prefix}${MARKER_NAME}`;
  }

  async read(options: { signal?: AbortSignal } = {}): Promise<string | undefined> {
    try {
      const out = await this.#client.send(
        new GetObjectCommand({ Bucket: this.#bucket, Key: this.#key }),
        sendOptions(options),
      );
      return await out.Body?.transformToString('utf8');
    } catch (err) {
      if (isS3NotFound(err)) return undefined;
      throw err;
    }
  }

  async write(text: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.#client.send(
      new PutObjectCommand({
        Bucket: this.#bucket,
        Key: this.#key,
        Body: text,
        ContentType: 'application/json',
      }),
      sendOptions(options),
    );
  }

  async fileLibraries(limit: number, options: { signal?: AbortSignal } = {}): Promise<string[]> {
    const files = `${this.#prefix}files/`;
    const out = await this.#client.send(
      new ListObjectsV2Command({ Bucket: this.#bucket, Prefix: files, Delimiter: '/', MaxKeys: limit }),
      sendOptions(options),
    );
    return (out.CommonPrefixes ?? [])
      .map((p) => (p.Prefix ?? '').slice(files.length).replace(/\/$/, ''))
      .filter((id) => id !== '');
  }
}
