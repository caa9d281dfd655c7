// Schema pieces both JSON surfaces use for query strings: integers in a range and closed sets of
// words, with the `expects` wording their error messages complete.
import { type TLiteral, type TUnion, Type } from '@sinclair/typebox';

/** Thrown by a transform's decoder: the value is refused, and the field's `expects` says why. */
export function refuse(): never {
  throw new Error('refused by the schema');
}

/** An integer in [min, max] (JavaScript's Number() reading); empty is absent. */
export function intIn(min: number, max: number) {
  return Type.Transform(Type.String({ expects: `an integer from ${min} to ${max}` }))
    .Decode((raw): number | undefined => {
      if (raw === '') return undefined;
      const n = Number(raw);
      return Number.isInteger(n) && n >= min && n <= max ? n : refuse();
    })
    .Encode((n) => (n === undefined ? '' : String(n)));
}

/** One of `values` exactly. */
export function oneOf<const T extends string>(values: readonly T[], expects?: string): TUnion<[TLiteral<T>]> {
  // Typed as one literal of the whole union: typebox's decoded types need a tuple, not an array.
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    { expects: expects ?? `one of ${values.join(', ')}` },
  ) as unknown as TUnion<[TLiteral<T>]>;
}
