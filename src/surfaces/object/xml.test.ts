// Request documents: hostile shapes (DTDs, entity declarations, deep nesting, prototype keys, undefined
// references) are MalformedXML before any parser runs; character references are decoded.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '../../core/errors.ts';
import { MAX_XML_DEPTH } from './guard-xml.ts';
import { parseXml } from './xml.ts';

function refused(xml: string, message: RegExp): void {
  assert.throws(
    () => parseXml(xml, 'Delete'),
    (err: unknown) => err instanceof AppError && err.code === 'MalformedXML' && message.test(err.message),
  );
}

const keysOf = (xml: string): string[] =>
  (parseXml(xml, 'Delete').Object as { Key: string }[]).map((o) => o.Key);

describe('parseXml', () => {
  it('refuses a DOCTYPE, with or without entity declarations', () => {
    refused(
      '<?xml version="1.0"?><!DOCTYPE Delete [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><Delete><Object><Key>&b;</Key></Object></Delete>',
      /DOCTYPE/,
    );
    refused('<!DOCTYPE Delete SYSTEM "file:///etc/passwd"><Delete/>', /DOCTYPE/);
    refused('<Delete><!ENTITY x "y"><Object><Key>k</Key></Object></Delete>', /ENTITY/);
  });

  it('refuses nesting deeper than the limit, however deep, without overflowing the stack', () => {
    const nested = (depth: number): string => `${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}`;
    refused(`<Delete>${nested(50_000)}</Delete>`, /nested more than/);
    refused(`<Delete>${nested(MAX_XML_DEPTH)}</Delete>`, /nested more than/);
    assert.doesNotThrow(() => parseXml(`<Delete>${nested(MAX_XML_DEPTH - 1)}</Delete>`, 'Delete'));
  });

  it('refuses element names that are prototype keys, with or without a namespace prefix', () => {
    refused('<Delete><__proto__><polluted>yes</polluted></__proto__></Delete>', /__proto__/);
    refused('<Delete><constructor><prototype>x</prototype></constructor></Delete>', /constructor/);
    refused('<Delete><s3:prototype xmlns:s3="urn:x">x</s3:prototype></Delete>', /prototype/);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('refuses references XML does not define and character references to non-characters', () => {
    refused('<Delete><Object><Key>&nbsp;</Key></Object></Delete>', /&nbsp;/);
    refused('<Delete><Object><Key>&unknown;</Key></Object></Delete>', /&unknown;/);
    refused('<Delete><Object><Key>&#0;</Key></Object></Delete>', /&#0;/);
    refused('<Delete><Object><Key>&#xD800;</Key></Object></Delete>', /&#xD800;/);
    refused('<Delete><Object><Key>&#x110000;</Key></Object></Delete>', /&#x110000;/);
  });

  it('decodes the five entities and decimal and hexadecimal character references, once', () => {
    assert.deepEqual(
      keysOf(
        '<Delete><Object><Key>it&#39;s.txt</Key></Object><Object><Key>&#34;q&#x22; &amp;#34; &lt;&#x1F600;&gt;</Key></Object></Delete>',
      ),
      ["it's.txt", '"q" &#34; <\u{1F600}>'],
    );
  });

  it('leaves CDATA and comments alone and accepts a namespaced real document', () => {
    assert.deepEqual(
      keysOf(
        '<?xml version="1.0" encoding="UTF-8"?>\n<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><!-- & <x> --><Object><Key><![CDATA[a&b<c>]]></Key></Object></Delete>',
      ),
      ['a&b<c>'],
    );
  });
});
