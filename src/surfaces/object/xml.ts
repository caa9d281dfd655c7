// XML in and out of the object API (spec cos-api §0): output starts with the declaration and uses the
// element names exactly as COS/S3 spell them; input ignores namespaces, element order and an optional
// declaration, and decodes XML's five entities and character references (the COS SDK sends ETags as
// &quot;…&quot;, other clients as &#34;…&#34;). guard-xml.ts refuses DTDs, deep nesting and prototype keys.
import { type EntityDecoderOptions, XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import { AppError } from '../../core/errors.ts';
import { guardXml } from './guard-xml.ts';

const builder = new XMLBuilder({ ignoreAttributes: false, suppressEmptyNode: false, processEntities: true });

function prune(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(prune);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = prune(v);
    return out;
  }
  return value;
}

export function renderXml(root: string, body: Record<string, unknown>): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build({ [root]: prune(body) })}`;
}

const ARRAY_ELEMENTS = new Set(['Part', 'Object']);

const PREDEFINED: Record<string, string> = { amp: '&', apos: "'", gt: '>', lt: '<', quot: '"' };
const REFERENCE = /&(?:#([0-9]+)|#x([0-9a-fA-F]+)|(amp|apos|gt|lt|quot));/g;

/**
 * XML's five entities and character references, decoded in one pass (so &amp;#34; stays &#34;).
 * guardXml has refused every other reference and any DTD, so there is nothing else to learn.
 */
const xmlEntities: EntityDecoderOptions = {
  decode: (text) =>
    text.replace(REFERENCE, (_ref, decimal?: string, hex?: string, name?: string) =>
      name !== undefined
        ? PREDEFINED[name]!
        : String.fromCodePoint(decimal !== undefined ? Number(decimal) : Number.parseInt(hex!, 16)),
    ),
  setExternalEntities() {},
  addInputEntities() {},
  reset() {},
  setXmlVersion() {},
};

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: false,
  processEntities: true,
  entityDecoder: xmlEntities,
  isArray: (name) => ARRAY_ELEMENTS.has(name),
});

/** Parses a request document; anything not well-formed, or with another root, is MalformedXML. */
export function parseXml(text: string, root: string): Record<string, unknown> {
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    throw new AppError(
      'MalformedXML',
      `The XML you provided was not well-formed or did not validate against our published schema (${valid.err.msg}).`,
    );
  }
  guardXml(text);
  let doc: Record<string, unknown>;
  try {
    doc = parser.parse(text) as Record<string, unknown>;
  } catch (err) {
    // The guard should leave nothing for the parser to refuse; if it does, the document is still bad.
    throw new AppError(
      'MalformedXML',
      `The XML you provided was not well-formed (${(err as Error).message}).`,
    );
  }
  const body = doc[root];
  if (body === undefined) {
    throw new AppError(
      'MalformedXML',
      `The XML you provided was not well-formed: expected the root element <${root}>.`,
    );
  }
  return (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
}

/** Text of an element whose value may have been parsed as a string or absent. */
export function textOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}
