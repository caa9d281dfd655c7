// Finds the row of the SMH operation table a request asks for (method, path, action flag, body field;
// the first matching row wins) and reads the row's path params from the request path.
import { AppError } from '../../core/errors.ts';
import { methodsOf, type SmhOperation } from './operation.ts';
import { SMH_OPERATIONS } from './operations.ts';

type Segment =
  | { kind: 'literal'; text: string }
  | { kind: 'param'; name: string }
  | { kind: 'digits'; name: string }
  | { kind: 'rest'; name: string };

function compile(path: string): Segment[] {
  return path.split('/').map((part) => {
    const name = /^\{(\w+)/.exec(part)?.[1];
    if (name === undefined) return { kind: 'literal', text: part };
    if (part.endsWith('*}')) return { kind: 'rest', name };
    return part.endsWith(':digits}') ? { kind: 'digits', name } : { kind: 'param', name };
  });
}

const COMPILED = new Map(SMH_OPERATIONS.map((op) => [op, compile(op.path)]));

function patternOf(operation: SmhOperation): Segment[] {
  return COMPILED.get(operation) ?? compile(operation.path);
}

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function pathMatches(pattern: readonly Segment[], segments: readonly string[]): boolean {
  for (const [i, part] of pattern.entries()) {
    if (part.kind === 'rest') return true;
    const segment = segments[i];
    if (segment === undefined) return false;
    if (part.kind === 'literal' && decoded(segment) !== part.text) return false;
    if (part.kind === 'digits' && !/^\d+$/.test(segment)) return false;
  }
  return segments.length === pattern.length;
}

/** The non-empty segments of a raw path below /api/v1. */
export function segmentsOf(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

export interface SmhRequestShape {
  method: string;
  /** The raw path below /api/v1, e.g. `/file/lib/-/a%20b.txt`. */
  path: string;
  query: Record<string, unknown>;
  body: unknown;
}

/** The operation a request asks for, or undefined when it is no SMH operation at all. */
export function resolveSmhOperation(
  request: SmhRequestShape,
  table: readonly SmhOperation[] = SMH_OPERATIONS,
): SmhOperation | undefined {
  const segments = segmentsOf(request.path);
  const body = request.body;
  const fields = typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {};
  for (const operation of table) {
    if (!(methodsOf(operation) as readonly string[]).includes(request.method)) continue;
    if (operation.flag !== undefined && !Object.hasOwn(request.query, operation.flag)) continue;
    if (operation.bodyField !== undefined && !Object.hasOwn(fields, operation.bodyField)) continue;
    if (pathMatches(patternOf(operation), segments)) return operation;
  }
  return undefined;
}

/** The router's limit on one path parameter (fastify's maxParamLength). */
const MAX_PARAM_LENGTH = 100;

function decodedStrict(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new AppError('InvalidArgument', 'The path is not valid percent-encoded UTF-8.');
  }
}

/**
 * The params of `operation`'s path in `segments` (which it matched): one segment percent-decoded, or
 * for `{name*}` the rest decoded and split again on `/` — the JS SDK sends `encodeURIComponent(path)`
 * and SMH reads an encoded slash as a separator (ADR 0002 §27).
 */
export function paramsOf(
  operation: SmhOperation,
  segments: readonly string[],
): Record<string, string | string[]> {
  const params: Record<string, string | string[]> = {};
  for (const [i, part] of patternOf(operation).entries()) {
    if (part.kind === 'literal') continue;
    if (part.kind === 'rest') {
      params[part.name] = segments
        .slice(i)
        .flatMap((s) => decodedStrict(s).split('/'))
        .filter((s) => s !== '');
      break;
    }
    const segment = segments[i]!;
    if (segment.length > MAX_PARAM_LENGTH)
      throw new AppError('InvalidURI', 'A path segment of the request is longer than 100 characters.');
    params[part.name] = decodedStrict(segment);
  }
  return params;
}
