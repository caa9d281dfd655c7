// Schema pieces of the SMH API (spec smh §1.4): valueless action flags, 0/1 and true/false booleans,
// integers in ranges and conflict strategies, all arriving as query strings; and the JSON body fields
// several operations share. A parameter the spec names but mediahost does not honour is refused with
// the reason in UNSUPPORTED_PARAMETERS rather than accepted and ignored.
import { type TSchema, Type } from '@sinclair/typebox';
import { refuse } from '../schema-types.ts';

export { intIn, oneOf } from '../schema-types.ts';

/** An action flag: the key's presence is the flag, whatever its value (the JS SDK sends `flag=1`). */
export const Flag = Type.String({ description: 'action flag: present, with any value or none' });

/** 0/1 or true/false (any case); empty is absent. */
export const Bool01 = Type.Transform(Type.String({ expects: '0, 1, true or false' }))
  .Decode((raw): boolean | undefined => {
    if (raw === '') return undefined;
    if (raw === '1' || raw.toLowerCase() === 'true') return true;
    if (raw === '0' || raw.toLowerCase() === 'false') return false;
    return refuse();
  })
  .Encode((value) => (value ? '1' : '0'));

/** A parameter honoured only in its "off" value: on would ask for something mediahost does not have. */
export function offOnly(reason: string) {
  return Type.Transform(Type.String({ expects: `0 or false (${reason})` }))
    .Decode((raw): false => (raw === '' || raw === '0' || raw.toLowerCase() === 'false' ? false : refuse()))
    .Encode(() => '0');
}

/** conflict_resolution_strategy (spec smh §3.3); empty is absent, a bad value its own error code. */
export function strategy<const T extends string>(allowed: readonly T[]) {
  return Type.Transform(
    Type.String({ expects: `one of ${allowed.join(', ')}`, code: 'InvalidConflictResolutionStrategy' }),
  )
    .Decode((raw): T | undefined => {
      if (raw === '') return undefined;
      return (allowed as readonly string[]).includes(raw) ? (raw as T) : refuse();
    })
    .Encode((value) => value ?? '');
}

/** Accepted and without effect, for the reason given (ADR 0002 §16, §26). */
export function noEffect(reason: string) {
  return Type.String({ description: `accepted, no effect: ${reason}` });
}

/** The parameters every operation takes (spec smh §2): who is calling. */
export const COMMON_QUERY = {
  access_token: Type.Optional(Type.String({ description: 'access token (spec smh §1.3)' })),
  library_secret: Type.Optional(Type.String({ description: 'the library secret, for backend calls' })),
  user_id: Type.Optional(Type.String({ description: 'acting user of an admin token without one' })),
} satisfies Record<string, TSchema>;

/** Spec parameters refused whatever their value, and why. */
export const UNSUPPORTED_PARAMETERS: Readonly<Record<string, string>> = {
  content_cas: 'content tags (optimistic concurrency) are not implemented',
  traffic_limit: 'download speed limits are not implemented (traffic_limit applies to uploads only)',
  history_id: 'history versions are not kept',
  prefix: 'listing a directory by name prefix is not implemented',
  start_name: 'listing a directory from a name is not implemented',
  contentCas: 'content tags (optimistic concurrency) are not implemented',
};

// JSON body fields.

/** A string, or null for absent. */
export const Text = Type.Union([Type.String(), Type.Null()], { expects: 'a string' });

export const Labels = Type.Array(Type.String(), { expects: 'a list of strings' });

/** A path in a body (`from`, `copyFrom`): slash-separated, split like the URL's. */
export const PathText = Type.String({ expects: 'a path string' });

/** A byte count as a string or a number. */
export const ByteCount = Type.Transform(Type.Unknown({ expects: 'a byte count' }))
  .Decode((value): number => {
    const n = Number(value);
    return Number.isSafeInteger(n) && n >= 0 ? n : refuse();
  })
  .Encode((n) => String(n));

/** labels, category and client times: the attributes create, begin and confirm bodies share. */
export const ATTRIBUTE_FIELDS = {
  labels: Type.Optional(Labels),
  category: Type.Optional(Text),
  localCreationTime: Type.Optional(Text),
  localModificationTime: Type.Optional(Text),
};

/** The attributes of a body, without the absent ones. */
export function attributesOf(b: {
  labels?: string[] | undefined;
  category?: string | null | undefined;
  localCreationTime?: string | null | undefined;
  localModificationTime?: string | null | undefined;
}): {
  labels?: string[];
  category?: string;
  localCreationTime?: string;
  localModificationTime?: string;
} {
  return {
    ...(b.labels ? { labels: b.labels } : {}),
    ...(b.category != null ? { category: b.category } : {}),
    ...(b.localCreationTime != null ? { localCreationTime: b.localCreationTime } : {}),
    ...(b.localModificationTime != null ? { localModificationTime: b.localModificationTime } : {}),
  };
}

/** Splits a body path (`from`, `copyFrom`) on `/`, dropping empty segments (ADR 0002 §27). */
export function splitPath(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}
