// Where the server may send requests of its own (callbacks, fetches by URL): public addresses, and
// the non-public ones an operator allow-listed by range, address or host name. Pure: the resolving
// and the connecting are the HTTP client's (adapters/http/safe-fetch.ts).
import { type Cidr, classifyAddress, embeddedV4, inCidr, parseAddress, parseCidr } from './ip-address.ts';

const HOST_NAME =
  /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/;

const normalHost = (host: string): string => host.toLowerCase().replace(/\.$/, '');

export class OutboundPolicy {
  readonly #ranges: Cidr[] = [];
  readonly #hosts = new Set<string>();

  /** `allow`: CIDR ranges, addresses or host names; throws a RangeError naming an entry that is none. */
  constructor(allow: readonly string[] = []) {
    for (const raw of allow) {
      const entry = raw.trim();
      const cidr = parseCidr(entry);
      if (cidr) this.#ranges.push(cidr);
      else if (HOST_NAME.test(entry.toLowerCase())) this.#hosts.add(normalHost(entry));
      else throw new RangeError(`"${raw}" is neither an address, a CIDR range nor a host name`);
    }
  }

  /** Whether requests to `host` (a name as written in a URL) may go to whatever it resolves to. */
  allowsHost(host: string): boolean {
    return this.#hosts.has(normalHost(host));
  }

  /**
   * Why a connection to `address` (reached through the name `host`, if any) is refused; undefined when
   * it is allowed.
   */
  refusal(address: string, host?: string): string | undefined {
    if (host !== undefined && this.allowsHost(host)) return undefined;
    const parsed = parseAddress(address);
    if (!parsed) return `${address} is not an IP address`;
    const kind = classifyAddress(parsed);
    if (kind === 'public') return undefined;
    const v4 = embeddedV4(parsed);
    if (this.#ranges.some((r) => inCidr(parsed, r) || (v4 !== undefined && inCidr(v4, r)))) return undefined;
    return `${address} is not a public address (${kind})`;
  }
}
