import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import { firstValues, InputSchema } from './input-schema.ts';

const Count = Type.Transform(Type.String({ expects: 'a count' }))
  .Decode((raw) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) throw new Error('bad');
    return n;
  })
  .Encode(String);

const schema = new InputSchema(
  Type.Object(
    {
      count: Type.Optional(Count),
      name: Type.String({ expects: 'a name' }),
      mode: Type.Optional(
        Type.Union([Type.Literal('a'), Type.Literal('b')], { expects: 'a or b', code: 'InvalidRequest' }),
      ),
      tags: Type.Optional(Type.Array(Type.String(), { expects: 'a list of strings' })),
    },
    { additionalProperties: false },
  ),
  'body',
);

describe('InputSchema', () => {
  it('decodes a valid value through its transforms', () => {
    assert.deepEqual(schema.decode({ name: 'x', count: '3' }), { ok: true, value: { name: 'x', count: 3 } });
  });

  it('names the field at fault and what it expects, with its own error code', () => {
    assert.deepEqual(schema.decode({ name: 'x', extra: 1 }), {
      ok: false,
      problem: { location: 'body', field: 'extra', kind: 'unknown' },
    });
    assert.deepEqual(schema.decode({}), {
      ok: false,
      problem: { location: 'body', field: 'name', kind: 'missing', expects: 'a name' },
    });
    assert.deepEqual(schema.decode({ name: 'x', tags: ['a', 1] }), {
      ok: false,
      problem: { location: 'body', field: 'tags', kind: 'invalid', expects: 'a list of strings' },
    });
    assert.deepEqual(schema.decode({ name: 'x', mode: 'c' }), {
      ok: false,
      problem: {
        location: 'body',
        field: 'mode',
        kind: 'invalid',
        expects: 'a or b',
        code: 'InvalidRequest',
      },
    });
  });

  it('reports a transform that refuses the value as an invalid field', () => {
    assert.deepEqual(schema.decode({ name: 'x', count: '-1' }), {
      ok: false,
      problem: { location: 'body', field: 'count', kind: 'invalid', expects: 'a count' },
    });
  });

  it('reports a value that is no object at all without a field', () => {
    assert.deepEqual(schema.decode([1]), { ok: false, problem: { location: 'body', kind: 'invalid' } });
  });

  it('reads a repeated query key as its first value', () => {
    assert.deepEqual(firstValues({ a: ['1', '2'], b: '', c: undefined }), { a: '1', b: '' });
  });
});
