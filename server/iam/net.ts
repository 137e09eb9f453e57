/** IP address helpers: CIDR matching and the client address behind trusted proxies. */

function v4ToBigInt(ip: string): bigint | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return null;
  let n = 0n;
  for (const part of m.slice(1)) {
    const v = Number(part);
    if (v > 255) return null;
    n = (n << 8n) | BigInt(v);
  }
  return n;
}

function v6ToBigInt(ip: string): bigint | null {
  const zone = ip.indexOf("%");
  if (zone >= 0) ip = ip.slice(0, zone);
  let tail: bigint[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(ip);
  if (v4) {
    const n = v4ToBigInt(v4[1]);
    if (n === null) return null;
    tail = [n >> 16n, n & 0xffffn];
    ip = ip.slice(0, -v4[1].length) + "0:0";
  }
  const halves = ip.split("::");
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(":") : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 0) return null;
  const groups = [...head, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...rest];
  let n = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    n = (n << 16n) | BigInt(parseInt(g, 16));
  }
  if (tail.length) n = (n & ~0xffffffffn) | (tail[0] << 16n) | tail[1];
  return n;
}

/** An address as a number, and whether it is IPv6 (IPv4-mapped IPv6 counts as IPv4). */
export interface IpNumber {
  v6: boolean;
  n: bigint;
}

/** A CIDR block, parsed once: addresses `a` inside it have `(a & mask) === net`. */
export interface CidrBlock {
  v6: boolean;
  net: bigint;
  mask: bigint;
  /** Prefix length in bits. */
  bits: number;
}

/** Parses an address (null when it is none). */
export function parseIp(ip: string): IpNumber | null {
  const s = normalizeIp(ip);
  const v4 = v4ToBigInt(s);
  if (v4 !== null) return { v6: false, n: v4 };
  const v6 = v6ToBigInt(s);
  return v6 === null ? null : { v6: true, n: v6 };
}

/** Parses an address or CIDR block (a bare address is a /32 or /128); null when malformed. */
export function parseCidr(cidr: string): CidrBlock | null {
  const [net, bitsRaw, extra] = cidr.split("/");
  if (extra !== undefined) return null;
  const ip = parseIp(net);
  if (!ip) return null;
  const width = ip.v6 ? 128 : 32;
  const bits = prefixLength(bitsRaw, width);
  if (bits === null) return null;
  const all = (1n << BigInt(width)) - 1n;
  const mask = bits === 0 ? 0n : all ^ ((1n << BigInt(width - bits)) - 1n);
  return { v6: ip.v6, net: ip.n & mask, mask, bits };
}

/** Whether a parsed address is inside a parsed block (never across address families). */
export function ipInBlock(ip: IpNumber, block: CidrBlock): boolean {
  return ip.v6 === block.v6 && (ip.n & block.mask) === block.net;
}

/** Normalizes IPv4-mapped IPv6 (`::ffff:1.2.3.4`) to IPv4. */
export function normalizeIp(ip: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip.replace(/^\[|\]$/g, ""));
  return m ? m[1] : ip.replace(/^\[|\]$/g, "");
}

/**
 * A CIDR's prefix length: `max` when absent, null unless decimal digits up to `max` (`Number`
 * alone reads "" as 0, which would match every address, and "8.5" as a fraction).
 */
function prefixLength(raw: string | undefined, max: number): number | null {
  if (raw === undefined) return max;
  if (!/^\d{1,3}$/.test(raw)) return null;
  const bits = Number(raw);
  return bits <= max ? bits : null;
}

/** Whether `cidr` is an IP address or a CIDR block (what `ipInCidr` can match against). */
export function isCidr(cidr: string): boolean {
  const [net, bitsRaw, extra] = cidr.split("/");
  if (extra !== undefined) return false;
  const n = normalizeIp(net);
  if (v4ToBigInt(n) !== null) return prefixLength(bitsRaw, 32) !== null;
  return v6ToBigInt(n) !== null && prefixLength(bitsRaw, 128) !== null;
}

/** Whether `ip` is inside `cidr` (a bare address is a /32 or /128; a malformed one, nothing). */
export function ipInCidr(ip: string, cidr: string): boolean {
  ip = normalizeIp(ip);
  const [net, bitsRaw, extra] = cidr.split("/");
  if (extra !== undefined) return false;
  const v4 = v4ToBigInt(ip);
  const netV4 = v4ToBigInt(normalizeIp(net));
  if (v4 !== null && netV4 !== null) {
    const bits = prefixLength(bitsRaw, 32);
    if (bits === null) return false;
    const mask = bits === 0 ? 0n : ((1n << 32n) - 1n) ^ ((1n << BigInt(32 - bits)) - 1n);
    return (v4 & mask) === (netV4 & mask);
  }
  const a = v6ToBigInt(ip);
  const b = v6ToBigInt(net);
  if (a === null || b === null) return false;
  const bits = prefixLength(bitsRaw, 128);
  if (bits === null) return false;
  const all = (1n << 128n) - 1n;
  const mask = bits === 0 ? 0n : all ^ ((1n << BigInt(128 - bits)) - 1n);
  return (a & mask) === (b & mask);
}

/**
 * The client address: the socket peer, or — only when the peer is a trusted proxy — the
 * rightmost X-Forwarded-For entry that is not itself a trusted proxy.
 */
export function clientIp(peer: string, xff: string | null, trusted: readonly string[]): string {
  peer = normalizeIp(peer);
  const isTrusted = (ip: string) => trusted.some((t) => ipInCidr(ip, t));
  if (!xff || !isTrusted(peer)) return peer;
  const hops = xff.split(",").map((s) => normalizeIp(s.trim())).filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    if (!isTrusted(hops[i])) return hops[i];
  }
  return hops[0] ?? peer;
}

/** Who sent a request, as its listener saw it: the client's address and whether TLS carried it. */
export interface Client {
  /** The client address (see `clientIp`); null when no socket is behind the request. */
  ip: string | null;
  /** Reached us over TLS, directly or through a trusted proxy that says so. */
  secure: boolean;
}

/** A request that did not come from a socket (in-process callers, tests). */
export const NO_CLIENT: Client = Object.freeze({ ip: null, secure: false });

/**
 * Turns a listener's socket peer into the request's `Client`, believing `X-Forwarded-For` and
 * `X-Forwarded-Proto` only from the trusted proxies. Each listener calls it once per request and
 * hands the result to its handler as an argument.
 */
export class ClientResolver {
  readonly trusted: readonly string[];
  constructor(trusted: readonly string[]) {
    this.trusted = trusted;
  }

  resolve(req: Request, peer: string | null): Client {
    const direct = req.url.startsWith("https:");
    if (peer === null) return { ip: null, secure: direct };
    const trusted = this.trusted;
    const viaProxy = trusted.some((t) => ipInCidr(normalizeIp(peer), t));
    return {
      ip: clientIp(peer, req.headers.get("x-forwarded-for"), trusted),
      secure: direct || (viaProxy && req.headers.get("x-forwarded-proto") === "https"),
    };
  }
}
