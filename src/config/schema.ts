// Every setting of mediahost: its flag, its MEDIAHOST_* variable, its default and what it does.
// docs/configuration.md is checked against this table by a test, so the two cannot drift apart.

export type SettingType = 'string' | 'integer' | 'boolean' | 'list';

export interface SettingSpec {
  /** Flag without the leading dashes, e.g. `data-dir`. The variable is MEDIAHOST_ + upper snake case. */
  readonly flag: string;
  readonly type: SettingType;
  readonly default: string | number | boolean | readonly string[];
  readonly description: string;
  /** Smallest accepted value for integers. */
  readonly min?: number;
  /** Largest accepted value for integers. */
  readonly max?: number;
  /** For strings: an empty value is an error rather than a choice (no meaningful empty value). */
  readonly nonEmpty?: boolean;
  readonly choices?: readonly string[];
  /** Holds a secret (a password, a key): hidden where the configuration is logged (loggable-config.ts). */
  readonly secret?: boolean;
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

export const SETTINGS = {
  host: {
    flag: 'host',
    type: 'string',
    nonEmpty: true,
    default: '127.0.0.1',
    description: 'Address the HTTP server binds to.',
  },
  port: {
    flag: 'port',
    type: 'integer',
    default: 8080,
    min: 0,
    max: 65_535,
    description: 'TCP port of the HTTP server (0 picks a free port).',
  },
  dataDir: {
    flag: 'data-dir',
    type: 'string',
    nonEmpty: true,
    default: './data',
    description: 'Directory holding the SQLite database and the stored bytes in embedded mode.',
  },
  publicUrl: {
    flag: 'public-url',
    type: 'string',
    default: '',
    description:
      'Base URL clients use to reach this server (scheme, host, port). Used in upload domains, signed URLs and Location headers. Empty means http://HOST:PORT.',
  },
  logLevel: {
    flag: 'log-level',
    type: 'string',
    default: 'info',
    choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    description: 'pino log level.',
  },
  logFormat: {
    flag: 'log-format',
    type: 'string',
    default: 'auto',
    choices: ['auto', 'json', 'pretty'],
    description:
      'How log lines are written: json (one JSON object a line), pretty (one readable line each) or auto (pretty when stdout is a terminal, json otherwise). Both carry ISO 8601 UTC timestamps; secrets are masked in both (docs/deploy.md, Logs).',
  },
  logHealthChecks: {
    flag: 'log-health-checks',
    type: 'boolean',
    default: false,
    description:
      'Log the request line of healthy GET /healthz probes too (unhealthy answers are always logged).',
  },
  databaseUrl: {
    flag: 'database-url',
    type: 'string',
    default: '',
    description:
      'postgres://… URL to keep metadata in PostgreSQL. Empty means SQLite at DATA_DIR/mediahost.db.',
    secret: true,
  },
  blob: {
    flag: 'blob',
    type: 'string',
    default: 'fs',
    choices: ['fs', 's3'],
    description:
      'Where bytes live. fs: files under DATA_DIR/blobs. s3: an external S3-compatible bucket (the s3-* settings); SMH clients then upload straight to it, and the node keeps no state of its own.',
  },
  fsDirectIo: {
    flag: 'fs-direct-io',
    type: 'boolean',
    default: true,
    description:
      'With --blob fs, write uploaded bytes with direct I/O (O_DIRECT, Linux): they bypass the page cache, which costs less CPU per byte stored; a filesystem that refuses it gets buffered writes. false: always buffered.',
  },
  s3Endpoint: {
    flag: 's3-endpoint',
    type: 'string',
    default: '',
    description:
      'URL of the S3-compatible store as this node reaches it, e.g. http://minio:9000. Empty means Amazon S3 in the s3-region.',
  },
  s3PublicEndpoint: {
    flag: 's3-public-endpoint',
    type: 'string',
    default: '',
    description:
      'URL of the store as clients reach it, used in upload grants and download redirects. Empty means the s3-endpoint.',
  },
  s3Region: {
    flag: 's3-region',
    type: 'string',
    nonEmpty: true,
    default: 'us-east-1',
    description: 'Region the store signs with.',
  },
  s3Bucket: {
    flag: 's3-bucket',
    type: 'string',
    default: '',
    description: 'The bucket mediahost keeps everything in (it must exist).',
  },
  s3AccessKeyId: {
    flag: 's3-access-key-id',
    type: 'string',
    default: '',
    description: 'Access key id for the bucket. It signs operations and the grants handed to clients.',
  },
  s3SecretAccessKey: {
    flag: 's3-secret-access-key',
    type: 'string',
    default: '',
    description: 'Secret of that access key (prefer the variable to the flag, which other users can see).',
    secret: true,
  },
  s3ForcePathStyle: {
    flag: 's3-force-path-style',
    type: 'boolean',
    default: true,
    description:
      'Address the bucket as ENDPOINT/BUCKET/KEY (true; MinIO, Ceph RGW, mediahost) or as BUCKET.ENDPOINT-HOST/KEY (false; AWS, COS).',
  },
  s3Checksum: {
    flag: 's3-checksum',
    type: 'string',
    default: 'when_required',
    choices: ['when_required', 'when_supported'],
    description:
      'When the S3 client adds CRC checksums to what it uploads: when_required (plain bodies, for any store) or when_supported (aws-chunked bodies with checksum trailers, for stores that verify them).',
  },
  s3Prefix: {
    flag: 's3-prefix',
    type: 'string',
    default: '',
    description: 'Key prefix for everything mediahost writes in the bucket, e.g. `mediahost/`.',
  },
  s3GrantSignature: {
    flag: 's3-grant-signature',
    type: 'string',
    default: 'sigv4',
    choices: ['sigv4', 'cos'],
    description:
      'How upload grants for SMH clients are signed. sigv4: presigned URLs (any S3 store); multipart parts get one URL each (docs/deploy.md). cos: COS signature headers shared by all parts, as SMH hands out (Tencent COS and mediahost stores).',
  },
  region: {
    flag: 'region',
    type: 'string',
    nonEmpty: true,
    default: 'local',
    description:
      'Region name reported by the object API (bucket location, ListBuckets). Clients may sign with any region.',
  },
  vhostSuffixes: {
    flag: 'vhost-suffixes',
    type: 'list',
    default: [],
    description:
      'Comma-separated host suffixes for virtual-host addressing: Host `BUCKET.SUFFIX` selects BUCKET. Real COS host names (BUCKET.cos.REGION.myqcloud.com) are always recognised.',
  },
  shutdownTimeoutSeconds: {
    flag: 'shutdown-timeout-seconds',
    type: 'integer',
    default: 30,
    min: 0,
    description: 'How long a graceful shutdown waits for in-flight requests before closing them.',
  },
  bodyTimeoutSeconds: {
    flag: 'body-timeout-seconds',
    type: 'integer',
    default: 60,
    min: 0,
    description:
      "A request body that sends no byte for this long is answered with its API's RequestTimeout error and its connection closed; slow bodies that keep moving are not affected. 0 waits forever.",
  },
  clockSkewSeconds: {
    flag: 'clock-skew-seconds',
    type: 'integer',
    default: 900,
    min: 0,
    description:
      'Tolerated difference between a signature time and server time (SigV4 x-amz-date, start of a COS q-sign-time).',
  },
  minPartSizeCos: {
    flag: 'min-part-size-cos',
    type: 'integer',
    default: MiB,
    min: 0,
    description: 'Smallest non-last part accepted by Complete Multipart Upload in the COS dialect (bytes).',
  },
  minPartSizeS3: {
    flag: 'min-part-size-s3',
    type: 'integer',
    default: 5 * MiB,
    min: 0,
    description: 'Smallest non-last part accepted by Complete Multipart Upload in the S3 dialect (bytes).',
  },
  maxPartSize: {
    flag: 'max-part-size',
    type: 'integer',
    default: 5 * GiB,
    min: 1,
    description: 'Largest part accepted by Upload Part (bytes).',
  },
  maxPutSize: {
    flag: 'max-put-size',
    type: 'integer',
    default: 5 * GiB,
    min: 1,
    description: 'Largest object accepted by PUT Object and POST Object (bytes).',
  },
  cosRequireConsecutiveParts: {
    flag: 'cos-require-consecutive-parts',
    type: 'boolean',
    default: true,
    description:
      'In the COS dialect, Complete requires part numbers 1..N with no gaps (COS rule; S3 allows gaps).',
  },
  completedUploadReplaySeconds: {
    flag: 'completed-upload-replay-seconds',
    type: 'integer',
    default: 600,
    min: 0,
    description:
      'How long a completed multipart upload remembers its result, so a retried Complete with the same parts gets the same 200.',
  },
  incompleteUploadMaxAgeHours: {
    flag: 'incomplete-upload-max-age-hours',
    type: 'integer',
    default: 168,
    min: 1,
    description: 'Multipart uploads still open after this many hours are aborted by the sweeper.',
  },
  sweepIntervalSeconds: {
    flag: 'sweep-interval-seconds',
    type: 'integer',
    default: 300,
    min: 1,
    description:
      'How often the sweeper removes orphan blobs, stale temporary files, expired credentials and old uploads.',
  },
  orphanGraceSeconds: {
    flag: 'orphan-grace-seconds',
    type: 'integer',
    default: 900,
    min: 0,
    description: 'A blob or temporary file no row points to is removed only once it is older than this.',
  },
  diskReserveMib: {
    flag: 'disk-reserve-mib',
    type: 'integer',
    default: 1024,
    min: 0,
    description:
      "Free space (MiB) to keep on the data dir's filesystem: below it, uploads (object PUT, UploadPart, POST, copies, SMH begin) and new media tasks answer InsufficientStorage, and /healthz answers 503 with disk.status low. A body whose declared length would take the disk below it is refused too. 0 refuses only what cannot fit.",
  },
  sweeperPaused: {
    flag: 'sweeper-paused',
    type: 'boolean',
    default: false,
    description:
      'Keep the sweeper from deleting anything on this process (during and after a restore: docs/deploy.md, "Backups and restores"). `mediahost sweeper pause` does the same for every process of a database.',
  },
  adoptBlobStore: {
    flag: 'adopt-blob-store',
    type: 'boolean',
    default: false,
    description:
      "Start even though the blob store holds data this database does not know and no deployment marker (a store restored apart from its database), and mark it as this database's. A store marked by another database is never taken.",
  },
  uploadCredentialSeconds: {
    flag: 'upload-credential-seconds',
    type: 'integer',
    default: 3600,
    // SMH SDKs renew at once when less than 5 minutes remain (spec smh §3.4): a lifetime at or near 300 s
    // makes every renew trigger the next.
    min: 600,
    description:
      'Lifetime of the signed headers (or form) an SMH upload task hands out; multipart tasks renew them before this runs out. At least 600: SMH SDKs renew as soon as less than 5 minutes remain.',
  },
  uploadTaskGraceSeconds: {
    flag: 'upload-task-grace-seconds',
    type: 'integer',
    default: 86_400,
    min: 0,
    description:
      'An unconfirmed upload task whose credentials expired longer ago than this is expired: its bytes are reclaimed and its confirm key forgotten.',
  },
  workerConcurrency: {
    flag: 'worker-concurrency',
    type: 'integer',
    default: 1,
    min: 0,
    description:
      'Media tasks (ffmpeg) run at once by this process; 0 turns the in-process workers of `serve` off (run `mediahost worker` apart).',
  },
  ffmpegPath: {
    flag: 'ffmpeg-path',
    type: 'string',
    nonEmpty: true,
    default: 'ffmpeg',
    description: 'The ffmpeg executable (a name looked up on PATH, or a path).',
  },
  ffprobePath: {
    flag: 'ffprobe-path',
    type: 'string',
    nonEmpty: true,
    default: 'ffprobe',
    description: 'The ffprobe executable (a name looked up on PATH, or a path).',
  },
  jobLeaseSeconds: {
    flag: 'job-lease-seconds',
    type: 'integer',
    default: 30,
    min: 2,
    description:
      'A running task belongs to its worker while the worker renews this lease (every third of it); a task whose lease lapses goes back to the queue.',
  },
  jobMaxAttempts: {
    flag: 'job-max-attempts',
    type: 'integer',
    default: 3,
    min: 1,
    description:
      'Attempts a media task gets (a lost worker or a transient error each costs one) before it is FAILED.',
  },
  workerPollMilliseconds: {
    flag: 'worker-poll-milliseconds',
    type: 'integer',
    default: 500,
    min: 10,
    description: 'How often an idle worker looks for a task to claim.',
  },
  outboundAllow: {
    flag: 'outbound-allow',
    type: 'list',
    default: [],
    description:
      'Destinations of requests the server sends itself (VOD callback_url) that are allowed although not public: comma-separated CIDR ranges (10.0.0.0/8, fd00::/8), addresses or host names. Any other destination resolving to a loopback, private, link-local, unique-local, CGNAT, multicast, unspecified or reserved address (IPv4-mapped ones included) is refused.',
  },
  corsOrigins: {
    flag: 'cors-origins',
    type: 'list',
    default: ['*'],
    description:
      'Origins allowed by CORS on all three APIs: object, SMH and VOD (comma-separated, `*` for any). The default admits any origin: SMH and VOD carry their token in the query or a header, never a cookie, and object requests are signed. Empty disables CORS (every preflight is refused).',
  },
  corsMaxAgeSeconds: {
    flag: 'cors-max-age-seconds',
    type: 'integer',
    default: 600,
    min: 0,
    description: 'Access-Control-Max-Age of CORS preflight responses.',
  },
} as const satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof SETTINGS;

type ValueOf<S extends SettingSpec> = S['type'] extends 'integer'
  ? number
  : S['type'] extends 'boolean'
    ? boolean
    : S['type'] extends 'list'
      ? string[]
      : string;

export type Config = { -readonly [K in SettingName]: ValueOf<(typeof SETTINGS)[K]> };

export function envName(spec: SettingSpec): string {
  return `MEDIAHOST_${spec.flag.toUpperCase().replaceAll('-', '_')}`;
}
