// The OpenAPI 3.1 document of the three APIs, rendered from their operation tables (served at
// GET /openapi.json), so it cannot describe an operation the server does not route. OpenAPI tells
// operations apart by method and path only: an operation picked by an action flag or query marker gets
// the path `…?flag` (as the specs write it), and operations that share a method and path, told apart by
// a body field or a header, are one OpenAPI operation listing them in `x-mediahost-operations`.
import type { TObject, TSchema } from '@sinclair/typebox';
import { ANNOTATION_KEYS, type InputSchema } from './input-schema.ts';
import { type ImplementedOperation, OBJECT_OPERATIONS } from './object/router.ts';
import { paramNames } from './path-params.ts';
import { methodsOf, type SmhImplementedOperation, smhPathTemplate } from './smh/operation.ts';
import { SMH_OPERATIONS } from './smh/operations.ts';
import type { VodImplementedOperation } from './vod/operation.ts';
import { VOD_OPERATIONS } from './vod/operations.ts';

type Json = Record<string, unknown>;

/** One operation as the tables give it, before rows sharing a method and path are merged. */
interface Row {
  tag: 'SMH' | 'VOD' | 'Object';
  name: string;
  method: string;
  /** The path key: the template, with `?flag` when a query flag or marker selects the row. */
  key: string;
  query?: InputSchema;
  body?: InputSchema;
  /** What tells this row from the others on its method and path (a body field, a header). */
  selector?: string;
  summary?: string;
  security: Json[];
  error: 'SmhError' | 'VodError' | 'ObjectError';
}

/** A JSON Schema of ours as plain JSON: the `expects` of our messages becomes the description. */
export function jsonSchemaOf(schema: TSchema): Json {
  const visit = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(visit);
    if (value === null || typeof value !== 'object') return value;
    const out: Json = {};
    for (const [k, v] of Object.entries(value)) {
      if ((ANNOTATION_KEYS as readonly string[]).includes(k)) continue;
      // The keys of `properties` are field names, not keywords.
      out[k] =
        k === 'properties' && v !== null && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).map(([name, s]) => [name, visit(s)]))
          : visit(v);
    }
    const expects = (value as { expects?: unknown }).expects;
    if (typeof expects === 'string' && out.description === undefined) out.description = expects;
    return out;
  };
  return visit(JSON.parse(JSON.stringify(schema))) as Json;
}

const REST_PARAMS: Record<string, string> = {
  path: 'the rest of the path, slashes included; percent-encoded slashes separate too (ADR 0002 §27)',
  rest: 'the rest of the path, slashes included',
  key: 'the object key: the rest of the path, slashes included, never normalised',
};

function smhRows(): Row[] {
  const implemented = SMH_OPERATIONS.filter((op): op is SmhImplementedOperation => op.implemented);
  return implemented.flatMap((op) =>
    methodsOf(op).map((method) => ({
      tag: 'SMH' as const,
      name: op.name,
      method,
      key: smhPathTemplate(op) + (op.flag !== undefined ? `?${op.flag}` : ''),
      query: op.query,
      body: op.body,
      ...(op.bodyField !== undefined ? { selector: `a body with \`${op.bodyField}\`` } : {}),
      ...(op.path.includes(':digits}') ? { selector: 'an id of digits only' } : {}),
      ...(op.summary !== undefined ? { summary: op.summary } : {}),
      security: op.isAuthenticated ? [{ smhAccessToken: [] }, { smhLibrarySecret: [] }] : [],
      error: 'SmhError' as const,
    })),
  );
}

function vodRows(): Row[] {
  return VOD_OPERATIONS.filter((op): op is VodImplementedOperation => op.implemented).map((op) => ({
    tag: 'VOD',
    name: op.name,
    method: op.method,
    key: op.path,
    query: op.query,
    body: op.body,
    ...(op.summary !== undefined ? { summary: op.summary } : {}),
    security: [{ vodAuthToken: [] }],
    error: 'VodError',
  }));
}

const LEVEL_PATHS = { service: '/', bucket: '/{bucket}', object: '/{bucket}/{key}' } as const;

function objectRows(): Row[] {
  const implemented = OBJECT_OPERATIONS.filter((op): op is ImplementedOperation => op.implemented);
  return implemented.flatMap((op) => {
    const levels = op.level === 'ANY' ? (['service', 'bucket', 'object'] as const) : [op.level];
    const markers = op.query ? `?${op.query.join('&')}` : '';
    const selectors = [
      ...(op.header ? [`the header ${op.header.map((h) => `\`${h}\``).join(' or ')}`] : []),
      ...(op.contentType ? [`a ${op.contentType} body`] : []),
    ];
    return levels.map((level) => ({
      tag: 'Object' as const,
      name: op.op,
      method: op.method,
      key: LEVEL_PATHS[level] + markers,
      ...(selectors.length > 0 ? { selector: selectors.join(' and ') } : {}),
      ...(op.summary !== undefined ? { summary: op.summary } : {}),
      security: [{ cosSignature: [] }, { awsSigV4: [] }, {}],
      error: 'ObjectError' as const,
    }));
  });
}

function queryParameters(rows: readonly Row[]): Json[] {
  const out = new Map<string, Json>();
  for (const row of rows) {
    const schema = row.query?.schema as TObject | undefined;
    const flag = row.key.split('?')[1]?.split('&') ?? [];
    for (const [name, property] of Object.entries(schema?.properties ?? {})) {
      if (out.has(name) || flag.includes(name)) continue;
      const takers = rows.filter((r) =>
        Object.hasOwn((r.query?.schema as TObject | undefined)?.properties ?? {}, name),
      );
      const { description, ...rest } = jsonSchemaOf(property);
      const only = takers.length < rows.length ? `${takers.map((r) => r.name).join(', ')} only` : undefined;
      const text = [description, only].filter((t) => t !== undefined).join('; ');
      out.set(name, {
        name,
        in: 'query',
        required: takers.length === rows.length && (schema?.required ?? []).includes(name),
        ...(text !== '' ? { description: text } : {}),
        schema: rest,
      });
    }
  }
  return [...out.values()];
}

function requestBody(rows: readonly Row[]): Json | undefined {
  const bodies = rows
    .map((row) => row.body?.schema as TObject | undefined)
    .filter((schema): schema is TObject => schema !== undefined && Object.keys(schema.properties).length > 0);
  if (bodies.length === 0) return undefined;
  const schema = bodies.length === 1 ? jsonSchemaOf(bodies[0]!) : { anyOf: bodies.map(jsonSchemaOf) };
  return { required: false, content: { 'application/json': { schema } } };
}

/** One OpenAPI operation for the rows sharing a method and path (`key` names the path params). */
function operationOf(key: string, rows: readonly Row[]): Json {
  const [first] = rows as [Row, ...Row[]];
  const pathParams = paramNames(key).map((name) => ({ name, description: REST_PARAMS[name] }));
  const names = rows.map((r) => r.name);
  const chosen = rows
    .map(
      (r) =>
        `${r.selector ? `with ${r.selector}` : 'otherwise'}: ${r.name}${r.summary ? ` (${r.summary})` : ''}`,
    )
    .join('; ');
  const parameters = [
    ...pathParams.map((p) => ({
      name: p.name,
      in: 'path',
      required: true,
      ...(p.description ? { description: p.description } : {}),
      schema: { type: 'string' },
    })),
    ...queryParameters(rows),
  ];
  const body = requestBody(rows);
  return {
    tags: [first.tag],
    operationId: names.join('Or'),
    summary: rows.length === 1 ? first.name : `${names.join(', ')}, told apart by the request`,
    ...(rows.length === 1
      ? first.summary
        ? { description: first.summary }
        : {}
      : { description: `One method and path, several operations; ${chosen}.` }),
    'x-mediahost-operations': names,
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(body ? { requestBody: body } : {}),
    responses: {
      '2XX': { description: 'Success, in the shape the compatible API gives it' },
      default: {
        description: 'An error in the API’s dialect',
        content: {
          [first.error === 'ObjectError' ? 'application/xml' : 'application/json']: {
            schema: { $ref: `#/components/schemas/${first.error}` },
          },
        },
      },
    },
    security: first.security,
  };
}

/**
 * Rows grouped by path and method. OpenAPI forbids two templates that differ only in their params'
 * names (quota/{lib}/{quota} and quota/{lib}/{space}): such rows share the first one's path.
 */
function pathsOf(rows: readonly Row[]): Record<string, Record<string, Json>> {
  const groups = new Map<string, { key: string; methods: Map<string, Row[]> }>();
  for (const row of rows) {
    const shape = row.key.replace(/\{\w+\}/g, '{}');
    const group = groups.get(shape) ?? { key: row.key, methods: new Map<string, Row[]>() };
    groups.set(shape, group);
    const method = row.method.toLowerCase();
    group.methods.set(method, [...(group.methods.get(method) ?? []), row]);
  }
  const paths: Record<string, Record<string, Json>> = {};
  const ids = new Set<string>();
  for (const { key, methods } of groups.values()) {
    paths[key] = {};
    for (const [method, group] of methods) {
      const operation = operationOf(key, group);
      // A row of several methods or levels (CreateAccessToken, Preflight) is several operations.
      let id = String(operation.operationId);
      for (let n = 2; ids.has(id); n++) id = `${operation.operationId}${n}`;
      ids.add(id);
      paths[key][method] = { ...operation, operationId: id };
    }
  }
  return paths;
}

const SERVER_PATHS = {
  '/healthz': {
    get: {
      tags: ['Server'],
      operationId: 'GetHealth',
      summary: 'Whether the database, the object store and the disk serve; 503 when one does not',
      responses: { '200': { description: 'Healthy' }, '503': { description: 'Degraded: the body says why' } },
    },
  },
  '/openapi.json': {
    get: {
      tags: ['Server'],
      operationId: 'GetOpenApiDocument',
      summary: 'This document',
      responses: { '200': { description: 'The OpenAPI document', content: { 'application/json': {} } } },
    },
  },
};

export function renderOpenApi(options: { version: string }): Json {
  return {
    openapi: '3.1.0',
    info: {
      title: 'mediahost',
      version: options.version,
      summary: 'The SMH business API, a COS/S3-compatible object API and the VOD media-task API on one port',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    tags: [
      { name: 'SMH', description: 'Tencent Smart Media Hosting business API (JSON)' },
      { name: 'VOD', description: 'Huawei Cloud VOD media tasks (JSON)' },
      { name: 'Object', description: 'COS/S3-compatible object API (XML), path style shown' },
      { name: 'Server', description: 'The server itself' },
    ],
    paths: { ...SERVER_PATHS, ...pathsOf([...smhRows(), ...vodRows(), ...objectRows()]) },
    components: {
      schemas: {
        SmhError: {
          type: 'object',
          required: ['code', 'message', 'requestId'],
          properties: {
            code: { type: 'string' },
            message: { type: 'string' },
            requestId: { type: 'string' },
          },
        },
        VodError: {
          type: 'object',
          required: ['error_code', 'error_msg'],
          properties: { error_code: { type: 'string' }, error_msg: { type: 'string' } },
        },
        ObjectError: {
          type: 'object',
          xml: { name: 'Error' },
          properties: {
            Code: { type: 'string' },
            Message: { type: 'string' },
            Resource: { type: 'string' },
            RequestId: { type: 'string' },
            TraceId: { type: 'string' },
          },
        },
      },
      securitySchemes: {
        smhAccessToken: { type: 'apiKey', in: 'query', name: 'access_token' },
        smhLibrarySecret: { type: 'apiKey', in: 'query', name: 'library_secret' },
        vodAuthToken: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Auth-Token',
          description: 'an SMH access token of the library named by project_id',
        },
        cosSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description: 'COS q-sign-algorithm=sha1, in the header or the same fields in the query',
        },
        awsSigV4: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description: 'AWS Signature Version 4, in the header or presigned in the query',
        },
      },
    },
  };
}
