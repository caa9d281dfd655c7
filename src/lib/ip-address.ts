// IP addresses as numbers, CIDR ranges, and what kind of destination an address is (RFC 6890 and the
// IANA special-purpose registries): only `public` addresses are on the open internet. IPv6 addresses
// that embed an IPv4 one (mapped, NAT64, 6to4) are what they embed.

export type AddressKind =
  | 'public'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'unique-local'
  | 'cgnat'
  | 'multicast'
  | 'reserved';

export interface ParsedAddress {
  version: 4 | 6;
  value: bigint;
}

const V4_PART = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

function parseV4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => V4_PART.test(p))) return undefined;
  return parts.reduce((n, p) => (n << 8n) | BigInt(p), 0n);
}

function parseV6(text: string): bigint | undefined {
  if (text.includes('%')) return undefined; // a zone id names a local interface: never a remote host
  let tail: bigint[] = [];
  let body = text;
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v4 = parseV4(dotted[2]!);
    if (v4 === undefined) return undefined;
    tail = [v4 >> 16n, v4 & 0xffffn];
    body = dotted[1]!.endsWith('::') ? dotted[1]! : dotted[1]!.slice(0, -1);
  }
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string): bigint[] | undefined => {
    if (s === '') return [];
    const out: bigint[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(BigInt(`0x${g}`));
    }
    return out;
  };
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !rest) return undefined;
  const given = head.length + rest.length + tail.length;
  if (halves.length === 2 ? given > 7 : given !== 8) return undefined;
  const all = [...head, ...Array<bigint>(8 - given).fill(0n), ...rest, ...tail];
  return all.reduce((n, g) => (n << 16n) | g, 0n);
}

/** An IPv4 or IPv6 address in text (IPv6 with or without brackets); undefined when it is neither. */
export function parseAddress(text: string): ParsedAddress | undefined {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const v4 = parseV4(bare);
  if (v4 !== undefined) return { version: 4, value: v4 };
  const v6 = bare.includes(':') ? parseV6(bare) : undefined;
  return v6 === undefined ? undefined : { version: 6, value: v6 };
}

export interface Cidr {
  version: 4 | 6;
  base: bigint;
  bits: number;
}

/** `10.0.0.0/8`, `fd00::/8`, or one address (a /32 or /128). */
export function parseCidr(text: string): Cidr | undefined {
  const [addr, prefix, extra] = text.trim().split('/');
  if (extra !== undefined || addr === undefined) return undefined;
  const parsed = parseAddress(addr);
  if (!parsed) return undefined;
  const width = parsed.version === 4 ? 32 : 128;
  if (prefix !== undefined && !/^\d{1,3}$/.test(prefix)) return undefined;
  const bits = prefix === undefined ? width : Number(prefix);
  if (bits > width) return undefined;
  const shift = BigInt(width - bits);
  return { version: parsed.version, base: (parsed.value >> shift) << shift, bits };
}

export function inCidr(address: ParsedAddress, cidr: Cidr): boolean {
  if (address.version !== cidr.version) return false;
  const shift = BigInt((cidr.version === 4 ? 32 : 128) - cidr.bits);
  return address.value >> shift === cidr.base >> shift;
}

function table(entries: [string, AddressKind][]): [Cidr, AddressKind][] {
  return entries.map(([text, kind]) => [parseCidr(text)!, kind]);
}

const V4_RANGES = table([
  ['0.0.0.0/8', 'unspecified'],
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'cgnat'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'reserved'],
  ['192.0.2.0/24', 'reserved'],
  ['192.88.99.0/24', 'reserved'],
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'reserved'],
  ['198.51.100.0/24', 'reserved'],
  ['203.0.113.0/24', 'reserved'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved'],
]);

const V6_RANGES = table([
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['::/96', 'reserved'],
  ['64:ff9b:1::/48', 'private'],
  ['100::/64', 'reserved'],
  ['2001::/23', 'reserved'],
  ['2001:db8::/32', 'reserved'],
  ['fc00::/7', 'unique-local'],
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'private'],
  ['ff00::/8', 'multicast'],
]);

const MAPPED = parseCidr('::ffff:0:0/96')!;
const NAT64 = parseCidr('64:ff9b::/96')!;
const SIX_TO_FOUR = parseCidr('2002::/16')!;

/** The IPv4 address an IPv6 one stands for (mapped, NAT64 well-known prefix, 6to4), if any. */
export function embeddedV4(address: ParsedAddress): ParsedAddress | undefined {
  if (address.version !== 6) return undefined;
  if (inCidr(address, MAPPED) || inCidr(address, NAT64))
    return { version: 4, value: address.value & 0xffffffffn };
  if (inCidr(address, SIX_TO_FOUR)) return { version: 4, value: (address.value >> 80n) & 0xffffffffn };
  return undefined;
}

export function classifyAddress(address: ParsedAddress): AddressKind {
  const v4 = embeddedV4(address);
  if (v4) return classifyAddress(v4);
  const ranges = address.version === 4 ? V4_RANGES : V6_RANGES;
  // Longest prefix wins (2001:db8::/32 inside 2001::/23 is documentation either way).
  let best: [Cidr, AddressKind] | undefined;
  for (const entry of ranges)
    if (inCidr(address, entry[0]) && (!best || entry[0].bits > best[0].bits)) best = entry;
  return best?.[1] ?? 'public';
}
