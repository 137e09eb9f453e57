/**
 * The check every connection the server opens on a tenant's behalf goes through (webhook targets
 * of event notifications, replication destinations): the URL is http(s), and every address its
 * host resolves to is a public unicast address, unless the operator allows private ones
 * (`--allow-private-endpoints`). Without it a tenant could make the server reach loopback,
 * link-local (cloud metadata at 169.254.169.254) or the operator's private network.
 *
 * The check runs when a target is registered and again before each connection (a name may
 * resolve elsewhere later). Address classes come from ipaddr.js (the classification proxy-addr
 * and express use) rather than a hand-written range table.
 */
import ipaddr from "ipaddr.js";

export interface OutboundPolicy {
  /** Loopback, link-local, private and other non-public addresses are allowed too. */
  allowPrivate: boolean;
}

/** A refused endpoint, with the reason in words a user can act on. */
export class EndpointRefused extends Error {
  override name = "EndpointRefused";
}

/** Looks a host name up (A and AAAA); replaceable in tests. */
export type Resolve = (host: string) => Promise<string[]>;

export const resolveHost: Resolve = async (host) => {
  const found = await Promise.allSettled([
    Deno.resolveDns(host, "A"),
    Deno.resolveDns(host, "AAAA"),
  ]);
  const addrs = found.flatMap((r) => r.status === "fulfilled" ? r.value : []);
  if (addrs.length === 0) throw new EndpointRefused(`${host} does not resolve to an address`);
  return addrs;
};

/** The address class of an IP literal ("unicast" is the only public one). */
export function addressRange(ip: string): string {
  let addr = ipaddr.parse(ip);
  if (addr.kind() === "ipv6" && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
    addr = (addr as ipaddr.IPv6).toIPv4Address();
  }
  return addr.range();
}

/** Whether an IP literal is a public unicast address. */
export function isPublicAddress(ip: string): boolean {
  return addressRange(ip) === "unicast";
}

/**
 * The URL parsed, once its scheme and every address of its host pass `policy`; throws
 * EndpointRefused otherwise.
 */
export async function checkEndpoint(
  url: string,
  policy: OutboundPolicy,
  resolve: Resolve = resolveHost,
): Promise<URL> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new EndpointRefused(`${JSON.stringify(url)} is not a URL`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new EndpointRefused(`${u.protocol} endpoints are not supported (http or https)`);
  }
  if (u.username || u.password) {
    throw new EndpointRefused("credentials in the URL are not accepted");
  }
  if (policy.allowPrivate) return u;
  const host = u.hostname.replace(/^\[|\]$/g, "");
  if (host === "localhost" || host.endsWith(".localhost")) {
    throw refused(u, "loopback");
  }
  const addrs = ipaddr.isValid(host) ? [host] : await resolve(host);
  for (const a of addrs) {
    const range = addressRange(a);
    if (range !== "unicast") throw refused(u, range, a === host ? undefined : a);
  }
  return u;
}

function refused(u: URL, range: string, addr?: string): EndpointRefused {
  const via = addr ? ` (it resolves to ${addr})` : "";
  return new EndpointRefused(
    `${u.host}${via} is a ${range} address; endpoints on loopback, link-local and private ` +
      "addresses need the server option --allow-private-endpoints",
  );
}
