// Request input (query strings, JSON bodies) checked against typebox schemas compiled once per operation.
// A schema property may say what it `expects` (for messages) and which error `code` a bad value is;
// problems come out dialect-neutral, and each surface words them (SMH ParamInvalid, VOD VOD.10053).
import type { StaticDecode, TObject, TProperties, TSchema } from '@sinclair/typebox';
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler';
import { ValueErrorType } from '@sinclair/typebox/errors';
import { TransformDecodeError } from '@sinclair/typebox/value';
import type { ErrorCode } from '../core/errors.ts';

/** Keys a surface may add to a property schema; they are ours, so the OpenAPI document drops them. */
export interface InputAnnotations {
  /** What a valid value is, completing "<field> must be …". */
  expects?: string;
  /** The error code of a bad value when it is not InvalidArgument. */
  code?: ErrorCode;
}

export const ANNOTATION_KEYS: readonly (keyof InputAnnotations)[] = ['expects', 'code'];

export type InputLocation = 'query' | 'body';

export interface InputProblem {
  location: InputLocation;
  /** The top-level field at fault; absent when the body as a whole is not an object. */
  field?: string;
  /** unknown: a field the operation does not take; missing: a required one absent; invalid: a bad value. */
  kind: 'unknown' | 'missing' | 'invalid';
  expects?: string;
  code?: ErrorCode;
}

export type InputResult<T> = { ok: true; value: T } | { ok: false; problem: InputProblem };

/** A compiled object schema for one location of one operation. */
export class InputSchema<P extends TProperties = TProperties> {
  readonly schema: TObject<P>;
  readonly location: InputLocation;
  readonly #check: TypeCheck<TObject<P>>;

  constructor(schema: TObject<P>, location: InputLocation) {
    this.schema = schema;
    this.location = location;
    this.#check = TypeCompiler.Compile(schema);
  }

  /** Checks and decodes `value` (0/1 to booleans, digits to numbers: whatever the schema's transforms do). */
  decode(value: unknown): InputResult<StaticDecode<TObject<P>>> {
    if (!this.#check.Check(value))
      return { ok: false, problem: this.#problem(this.#check.Errors(value).First()) };
    try {
      return { ok: true, value: this.#check.Decode(value) };
    } catch (err) {
      if (!(err instanceof TransformDecodeError)) throw err;
      return { ok: false, problem: this.#problem({ type: undefined, path: err.path }) };
    }
  }

  #problem(error: { type: ValueErrorType | undefined; path: string } | undefined): InputProblem {
    const field = error?.path.split('/')[1];
    if (field === undefined || field === '') return { location: this.location, kind: 'invalid' };
    const property = (this.schema.properties as Record<string, TSchema | undefined>)[field];
    if (error?.type === ValueErrorType.ObjectAdditionalProperties || !property)
      return { location: this.location, field, kind: 'unknown' };
    const annotations = property as InputAnnotations;
    return {
      location: this.location,
      field,
      kind: error?.type === ValueErrorType.ObjectRequiredProperty ? 'missing' : 'invalid',
      ...(annotations.expects !== undefined ? { expects: annotations.expects } : {}),
      ...(annotations.code !== undefined ? { code: annotations.code } : {}),
    };
  }
}

/**
 * A query string as fastify parsed it, with a repeated key reduced to its first value (as the
 * hand-written readers did before the schemas).
 */
export function firstValues(query: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries((query ?? {}) as Record<string, unknown>)) {
    const first = Array.isArray(value) ? value[0] : value;
    if (typeof first === 'string') out[name] = first;
  }
  return out;
}
