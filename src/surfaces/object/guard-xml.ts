// A scan of a request document before any parser sees it: COS/S3 request bodies (Complete, Delete)
// are three elements deep, use no DTD and only XML's own entities, so anything else is refused as
// MalformedXML instead of reaching the parser (entity expansion, deep recursion, prototype keys).
import { AppError } from '../../core/errors.ts';

/** Far above the 3 levels of a real request document. */
export const MAX_XML_DEPTH = 32;

/** Element names that would become properties of every object once parsed into one. */
const RESERVED_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

const PREDEFINED_ENTITY = /^&(?:amp|apos|gt|lt|quot);$/;
const CHAR_REF = /^&#(?:([0-9]{1,7})|x([0-9a-fA-F]{1,6}));$/;

// Comments, CDATA and processing instructions are skipped whole; declarations (<!DOCTYPE, <!ENTITY)
// are caught; tags are matched with their quoted attribute values; `&` starts a reference.
const MARKUP =
  /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<\?[\s\S]*?\?>|<!([A-Za-z]*)|<(\/?)([^\s/>]+)(?:[^>"']|"[^"]*"|'[^']*')*?(\/?)>|&[^&<\s]{0,12}/g;

function malformed(why: string): AppError {
  return new AppError('MalformedXML', `The XML you provided was not well-formed: ${why}.`);
}

/** XML 1.0 Char: tab, line feed, carriage return and the planes above the controls, no surrogates. */
function isXmlChar(code: number): boolean {
  return (
    code === 0x9 ||
    code === 0xa ||
    code === 0xd ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    (code >= 0x10000 && code <= 0x10ffff)
  );
}

function checkReference(text: string): void {
  const end = text.indexOf(';');
  const ref = end < 0 ? text : text.slice(0, end + 1);
  if (PREDEFINED_ENTITY.test(ref)) return;
  const char = CHAR_REF.exec(ref);
  if (char) {
    const code = char[1] !== undefined ? Number(char[1]) : Number.parseInt(char[2]!, 16);
    if (isXmlChar(code)) return;
    throw malformed(`the character reference ${ref} is not an XML character`);
  }
  throw malformed(
    `${JSON.stringify(ref)} is not a reference XML defines (escape a literal & as &amp;; no other entity exists)`,
  );
}

/** Throws MalformedXML for a DTD or entity declaration, nesting deeper than MAX_XML_DEPTH, a reserved
 * element name or an undefined entity reference. */
export function guardXml(text: string): void {
  let depth = 0;
  for (const m of text.matchAll(MARKUP)) {
    const [token, declaration, closing, name, selfClosing] = m;
    if (declaration !== undefined) {
      throw malformed(`declarations (<!${declaration}) are not accepted: no DTD, no entities`);
    }
    if (token.startsWith('&')) {
      checkReference(token);
      continue;
    }
    if (name === undefined) continue;
    const local = name.slice(name.indexOf(':') + 1);
    if (RESERVED_NAMES.has(local)) throw malformed(`<${name}> is not an element of this document`);
    if (closing) depth--;
    else if (!selfClosing && ++depth > MAX_XML_DEPTH) {
      throw malformed(`elements are nested more than ${MAX_XML_DEPTH} deep`);
    }
  }
}
