// Renders docs/api-coverage.md from the three operation tables, so the page cannot claim an operation
// the server does not route or miss one it refuses (a test compares the file; `npm run docs` rewrites it).

import type { TObject } from '@sinclair/typebox';
import type { InputSchema } from './input-schema.ts';
import {
  OBJECT_OPERATIONS,
  type ObjectOperation,
  UNSUPPORTED_PROCESSING,
  UNSUPPORTED_SUBRESOURCES,
} from './object/router.ts';
import { describeSmhOperation } from './smh/operation.ts';
import { SMH_OPERATIONS } from './smh/operations.ts';
import { COMMON_QUERY } from './smh/params.ts';
import { VOD_OPERATIONS } from './vod/operations.ts';

const code = (text: string): string => `\`${text}\``;

/** The query parameters and body fields a row's schemas list (the callers' common ones and its flag aside). */
function inputsOf(row: { query: InputSchema; body: InputSchema; flag?: string }): string {
  const names = (schema: InputSchema) => Object.keys((schema.schema as TObject).properties);
  const query = names(row.query).filter((n) => !Object.hasOwn(COMMON_QUERY, n) && n !== row.flag);
  const body = names(row.body);
  return [
    ...(query.length > 0 ? [`query ${query.map(code).join(', ')}`] : []),
    ...(body.length > 0 ? [`body ${body.map(code).join(', ')}`] : []),
  ].join('; ');
}

function objectRequest(row: ObjectOperation): string {
  const method = row.method === 'ANY' ? 'any method' : row.method;
  const path =
    row.level === 'service'
      ? '/'
      : row.level === 'bucket'
        ? '/{bucket}'
        : row.level === 'object'
          ? '/{bucket}/{key}'
          : 'any path';
  const query = row.query ? `?${row.query.join('&')}` : '';
  const parts = [code(`${method} ${path}${query}`)];
  if (row.header) parts.push(`with ${row.header.map(code).join(' / ')}`);
  if (row.contentType) parts.push(`(${row.contentType})`);
  return parts.join(' ');
}

function objectSection(): string[] {
  const implemented = OBJECT_OPERATIONS.filter((r) => r.implemented);
  const missing = OBJECT_OPERATIONS.filter((r) => !r.implemented);
  const buckets = missing.filter((r) => r.op === 'PutBucket' || r.op === 'DeleteBucket');
  const others = missing.filter(
    (r) => !r.op.startsWith('SubResource:') && !r.op.startsWith('Processing:') && !buckets.includes(r),
  );
  return [
    '## Object API (COS XML / S3)',
    '',
    'Addressing: path style (`/{bucket}/{key}`) and virtual host (`Host: {bucket}.cos.{region}.myqcloud.com`,',
    'or `{bucket}.{suffix}` for each `--vhost-suffixes` entry). Authentication: COS `q-sign-algorithm=sha1`',
    '(header and query), AWS SigV4 (header and presigned), temporary credentials (`x-cos-security-token`,',
    '`x-amz-security-token`), POST policies (COS and SigV4 form fields). Anonymous requests are refused unless',
    "the bucket is public. Keys under `<libraryId>/` hold the library's SMH files: only SMH's own grants reach",
    'them, every other caller gets `403 AccessDenied` and no listing shows them (ADR 0001 §17). Operations',
    'are picked by `src/surfaces/object/router.ts`.',
    '',
    '| operation | request | notes |',
    '|---|---|---|',
    ...implemented.map((r) => `| ${r.op} | ${objectRequest(r)} | ${r.summary ?? ''} |`),
    '',
    'Not implemented, answering `501 NotImplemented`:',
    '',
    `- bucket creation and deletion (${buckets.map(objectRequest).join(', ')}): libraries own their buckets;`,
    `- the sub-resources ${UNSUPPORTED_SUBRESOURCES.map(code).join(', ')}, with any method;`,
    `- Cloud Infinite processing selected by a query parameter on an object (${UNSUPPORTED_PROCESSING.map(code).join(', ')}, alone or followed by \`/\`);`,
    ...others.map((r) => `- ${r.op}: ${objectRequest(r)};`),
    '- SigV4a (ECDSA) signed payloads. AWS Signature Version 2 answers `400 InvalidRequest`.',
    '',
    'Any other method on a resource answers `405 MethodNotAllowed`. Every response carries',
    '`x-cos-request-id`, `x-amz-request-id` and `Date`. `x-cos-hash-crc64ecma` is sent on PUT, POST,',
    'UploadPart, UploadPartCopy, Complete, GET and HEAD.',
  ];
}

function smhSection(): string[] {
  const implemented = SMH_OPERATIONS.filter((r) => r.implemented);
  const missing = SMH_OPERATIONS.filter((r) => !r.implemented);
  return [
    '## SMH business API (`/api/v1/…`)',
    '',
    'Errors are JSON `{code, message, requestId}`; every response carries `x-smh-request-id` (and',
    '`x-request-id`) with the same id. Decisions are in [adr/0002-smh-decisions.md](adr/0002-smh-decisions.md).',
    'Operations are picked by `src/surfaces/smh/operations.ts`, which is the router; the first matching row',
    'wins, so a flag or body field selects its operation whatever else the request carries. Each operation',
    'takes the query parameters and body fields listed below, plus `access_token`, `library_secret` and',
    '`user_id`; anything else is `400 ParamInvalid` naming it, so a parameter mediahost does not honour',
    'is never ignored (ADR 0002 §35).',
    'Paths may arrive percent-encoded as a whole, as the JS SDK sends them (`a%2Fb%2Fc.txt`, root `%2F`): they',
    'are decoded, then split on `/` with empty segments dropped (ADR 0002 §27). CORS: `OPTIONS` preflights are',
    'answered and every response carries the CORS headers, origins from `--cors-origins` (ADR 0002 §30).',
    '',
    '| operation | request | takes | notes |',
    '|---|---|---|---|',
    ...implemented.map(
      (r) => `| ${r.name} | ${code(describeSmhOperation(r))} | ${inputsOf(r)} | ${r.summary ?? ''} |`,
    ),
    '',
    'For `?upload`, `?renew` and `?confirm` the last path part is the confirm key. The per-part variant',
    '(`partNumberRange` in the body of begin/renew or `part_number_range` in the query of begin/renew/status)',
    'answers `parts: {"N": {url, path, headers}}` (in status, inside `uploadPartInfo`); SigV4 stores always',
    'answer it (parts 1–100 unless asked), see [deploy.md](deploy.md).',
    '',
    'Not implemented, answering `400 FunctionNotEnabled` with a message naming the operation (deletes are',
    'permanent: there is no recycle bin):',
    '',
    '| operation | request |',
    '|---|---|',
    ...missing.map((r) => `| ${r.name} | ${code(describeSmhOperation(r))} |`),
    '',
    'Any other path or method answers `404 RouteNotFound`.',
  ];
}

function vodSection(): string[] {
  const row = (r: (typeof VOD_OPERATIONS)[number]): string => code(`${r.method} ${r.path}`);
  return [
    '## VOD media tasks (`/v1/{project_id}/…`, `/v1.0/{project_id}/…`)',
    '',
    "`project_id` is a library id, `asset_id` a file's SMH inode, and `X-Auth-Token` an SMH access token.",
    'Decisions and extensions are in [adr/0003-media-task-decisions.md](adr/0003-media-task-decisions.md).',
    'Operations are listed in `src/surfaces/vod/operations.ts`, one route each; an operation takes the',
    'query parameters and top-level body fields listed below and refuses any other with `400 VOD.10053`',
    "naming it (the body's nested fields are checked by the media service). CORS preflights are answered and every",
    'response carries the CORS headers (ADR 0003 §15). HLS outputs (an edit with `format: HLS`, the',
    '`hls-720p` template) are a directory holding the playlist and its segments; play one through the SMH',
    'download URL of its playlist (ADR 0003 §6, §16).',
    '',
    '| operation | request | takes | notes |',
    '|---|---|---|---|',
    ...VOD_OPERATIONS.filter((r) => r.implemented).map(
      (r) => `| ${r.name} | ${row(r)} | ${inputsOf(r)} | ${r.summary ?? ''} |`,
    ),
    '',
    'Not implemented, answering `501 {"error_code": "NOT_IMPLEMENTED"}` with a message naming the operation:',
    '',
    '| operation | request |',
    '|---|---|',
    ...VOD_OPERATIONS.filter((r) => !r.implemented).map((r) => `| ${r.name} | ${row(r)} |`),
    '',
    'AK/SK request signing (SDK-HMAC-SHA256) is not implemented. Any other path under `/v1/`, `/v1.0/` or',
    '`/v2/` answers `404 APIGW.0101`.',
  ];
}

export function renderApiCoverageDoc(): string {
  return [
    '# API coverage',
    '',
    '<!-- Generated from the operation tables by `npm run docs`; edit the tables, not this file. -->',
    '',
    'Each API has one table of operations. Every operation of the specs (`../shared/spec/`) that mediahost',
    'does not implement answers that API\'s "not implemented" error, never a success or a redirect;',
    '`test/acceptance/spec-operations.test.ts` walks the specs to keep it so. The same tables render the',
    'OpenAPI 3.1 document the server serves at `GET /openapi.json` (`src/surfaces/openapi.ts`).',
    '',
    ...objectSection(),
    '',
    ...smhSection(),
    '',
    ...vodSection(),
    '',
  ].join('\n');
}
