import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { xmlElements, xmlText } from './s3-http.ts';

describe('ListParts XML reading', () => {
  // As AWS S3 writes it: a namespace on the root, quotes of ETags as entities.
  const xml = `<?xml version="1.0" encoding="UTF-8"?>
<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>b</Bucket><Key>a&amp;b</Key>
<PartNumberMarker>0</PartNumberMarker><NextPartNumberMarker>2</NextPartNumberMarker><IsTruncated>true</IsTruncated>
<Part><PartNumber>1</PartNumber><LastModified>2026-11-21T10:00:00.000Z</LastModified><ETag>&quot;abc&quot;</ETag><Size>5242880</Size></Part>
<Part><PartNumber>2</PartNumber><ETag>"def"</ETag><Size>7</Size><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part>
</ListPartsResult>`;

  it('finds each Part (not PartNumberMarker) and decodes entities', () => {
    const parts = xmlElements(xml, 'Part');
    assert.equal(parts.length, 2);
    assert.equal(xmlText(parts[0]!, 'ETag'), '"abc"');
    assert.equal(xmlText(parts[1]!, 'ETag'), '"def"');
    assert.equal(xmlText(parts[0]!, 'Size'), '5242880');
    assert.equal(xmlText(parts[1]!, 'LastModified'), undefined);
    assert.equal(xmlText(xml, 'Key'), 'a&b');
    assert.equal(xmlText(xml, 'NextPartNumberMarker'), '2');
    assert.equal(xmlText(xml, 'IsTruncated'), 'true');
    assert.equal(xmlText('<a>&#65;&#x42;&lt;&gt;&apos;</a>', 'a'), "AB<>'");
  });
});
