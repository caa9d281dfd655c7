// Address parsing and classification (v4, v6, IPv4 embedded in v6), and the outbound allow-list.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyAddress, parseAddress, parseCidr } from './ip-address.ts';
import { OutboundPolicy } from './outbound-policy.ts';

const kind = (text: string) => {
  const parsed = parseAddress(text);
  assert.ok(parsed, `${text} parses`);
  return classifyAddress(parsed);
};

describe('IP addresses', () => {
  it('parses v4 and v6 text, and refuses what is neither', () => {
    assert.deepEqual(parseAddress('1.2.3.4'), { version: 4, value: 0x01020304n });
    assert.deepEqual(parseAddress('[::1]'), { version: 6, value: 1n });
    assert.equal(parseAddress('::ffff:1.2.3.4')?.value, 0xffff01020304n);
    assert.equal(parseAddress('1:2:3:4:5:6:7:8')?.value, 0x00010002000300040005000600070008n);
    assert.equal(parseAddress('1::')?.value, 1n << 112n);
    for (const bad of [
      '1.2.3',
      '1.2.3.256',
      '01.2.3.4',
      '1::2::3',
      '1:2:3:4:5:6:7:8:9',
      'fe80::1%eth0',
      'x',
      '',
    ])
      assert.equal(parseAddress(bad), undefined, bad);
  });

  it('parses CIDR ranges and single addresses', () => {
    assert.deepEqual(parseCidr('10.1.2.3/8'), { version: 4, base: 10n << 24n, bits: 8 });
    assert.deepEqual(parseCidr('::1'), { version: 6, base: 1n, bits: 128 });
    for (const bad of ['10.0.0.0/33', '::/129', '10.0.0.0/x', '10.0.0.0/8/1', 'example.com'])
      assert.equal(parseCidr(bad), undefined, bad);
  });

  it('classifies IPv4', () => {
    const cases: [string, string][] = [
      ['8.8.8.8', 'public'],
      ['1.1.1.1', 'public'],
      ['0.0.0.0', 'unspecified'],
      ['127.0.0.1', 'loopback'],
      ['127.255.255.254', 'loopback'],
      ['10.0.0.1', 'private'],
      ['172.16.0.1', 'private'],
      ['172.31.255.255', 'private'],
      ['172.32.0.1', 'public'],
      ['192.168.1.1', 'private'],
      ['169.254.169.254', 'link-local'],
      ['100.64.0.1', 'cgnat'],
      ['100.127.255.255', 'cgnat'],
      ['100.128.0.1', 'public'],
      ['224.0.0.1', 'multicast'],
      ['239.255.255.250', 'multicast'],
      ['255.255.255.255', 'reserved'],
      ['192.0.2.1', 'reserved'],
      ['198.18.0.1', 'reserved'],
    ];
    for (const [address, expected] of cases) assert.equal(kind(address), expected, address);
  });

  it('classifies IPv6, and IPv4 embedded in it (mapped, NAT64, 6to4) as what it embeds', () => {
    const cases: [string, string][] = [
      ['2606:4700:4700::1111', 'public'],
      ['2001:4860:4860::8888', 'public'],
      ['::', 'unspecified'],
      ['::1', 'loopback'],
      ['fe80::1', 'link-local'],
      ['fc00::1', 'unique-local'],
      ['fd12:3456::1', 'unique-local'],
      ['ff02::1', 'multicast'],
      ['2001:db8::1', 'reserved'],
      ['::ffff:127.0.0.1', 'loopback'],
      ['::ffff:7f00:1', 'loopback'],
      ['::ffff:10.0.0.1', 'private'],
      ['::ffff:169.254.169.254', 'link-local'],
      ['::ffff:8.8.8.8', 'public'],
      ['64:ff9b::127.0.0.1', 'loopback'],
      ['64:ff9b::8.8.8.8', 'public'],
      ['2002:7f00:1::', 'loopback'],
      ['2002:c0a8:101::1', 'private'],
      ['::127.0.0.1', 'reserved'],
    ];
    for (const [address, expected] of cases) assert.equal(kind(address), expected, address);
  });
});

describe('OutboundPolicy', () => {
  it('allows public addresses and refuses the rest, saying why', () => {
    const policy = new OutboundPolicy();
    assert.equal(policy.refusal('93.184.216.34'), undefined);
    assert.equal(policy.refusal('127.0.0.1'), '127.0.0.1 is not a public address (loopback)');
    assert.equal(policy.refusal('::ffff:10.1.1.1'), '::ffff:10.1.1.1 is not a public address (private)');
    assert.equal(policy.refusal('fd00::1'), 'fd00::1 is not a public address (unique-local)');
    assert.equal(policy.refusal('not-an-ip'), 'not-an-ip is not an IP address');
  });

  it('allows what is allow-listed by range, address or host name', () => {
    const policy = new OutboundPolicy(['10.0.0.0/8', '::1', ' 127.0.0.1 ', 'Hooks.Internal.']);
    assert.equal(policy.refusal('10.2.3.4'), undefined);
    assert.equal(policy.refusal('::ffff:10.2.3.4'), undefined, 'a mapped address matches a v4 range');
    assert.equal(policy.refusal('::1'), undefined);
    assert.equal(policy.refusal('127.0.0.1'), undefined);
    assert.equal(policy.refusal('127.0.0.2'), '127.0.0.2 is not a public address (loopback)');
    assert.equal(policy.refusal('192.168.0.1', 'hooks.internal'), undefined);
    assert.ok(policy.allowsHost('HOOKS.internal.'));
    assert.equal(
      policy.refusal('192.168.0.1', 'other.internal'),
      '192.168.0.1 is not a public address (private)',
    );
  });

  it('refuses an allow-list entry that is neither range, address nor name', () => {
    assert.throws(() => new OutboundPolicy(['10.0.0.0/40']), /10\.0\.0\.0\/40/);
    assert.throws(() => new OutboundPolicy(['http://x']), RangeError);
  });
});
